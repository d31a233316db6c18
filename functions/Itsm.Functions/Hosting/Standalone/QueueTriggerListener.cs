namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Delivers messages of the embedded queue to one <c>[QueueTrigger]</c> function, like the Storage queue extension:
/// the message is hidden (locked) while the function runs and the lock renewed, deleted on success, made visible
/// again after a back-off on failure, and moved to the poison queue after the maximum dequeue count.
/// </summary>
public sealed class QueueTriggerListener(
    FunctionDescriptor function,
    EmbeddedQueue queue,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<QueueTriggerListener> logger) : BackgroundService
{
    private readonly string _queueName = function.Queue!.QueueName;
    private readonly List<Task> _inFlight = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = new SemaphoreSlim(queue.Options.MaxConcurrentCalls);
        var signal = queue.Signal(_queueName);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                var wake = signal.WaitAsync();
                ReceivedQueueMessage? message;
                try
                {
                    message = await queue.ReceiveAsync(_queueName, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Receiving from queue {Queue} failed.", _queueName);
                    message = null;
                }

                if (message is null)
                {
                    slots.Release();
                    await WaitForWorkAsync(wake, stoppingToken);
                    continue;
                }

                var task = ProcessAsync(message, slots);
                lock (_inFlight)
                {
                    _inFlight.RemoveAll(t => t.IsCompleted);
                    _inFlight.Add(task);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        Task[] pending;
        lock (_inFlight)
        {
            pending = [.. _inFlight];
        }

        // Graceful shutdown: messages already handed to the function finish and are completed or abandoned.
        await Task.WhenAll(pending);
    }

    private async Task WaitForWorkAsync(Task wake, CancellationToken stoppingToken)
    {
        var delay = queue.Options.IdlePollInterval;
        var nextVisible = await queue.NextVisibleAtAsync(_queueName, stoppingToken);
        if (nextVisible is { } at)
        {
            var untilVisible = at - time.GetUtcNow();
            delay = untilVisible < delay ? untilVisible : delay;
        }

        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var timer = Task.Delay(delay, time, cancel.Token);
        await Task.WhenAny(wake, timer, Task.Delay(Timeout.Infinite, stoppingToken));
        await cancel.CancelAsync();
        stoppingToken.ThrowIfCancellationRequested();
    }

    private async Task ProcessAsync(ReceivedQueueMessage message, SemaphoreSlim slots)
    {
        using var renewal = new CancellationTokenSource();
        var renewTask = RenewLockAsync(message, renewal.Token);
        try
        {
            Exception? failure = null;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var returned = await FunctionInvoker.InvokeAsync(function, new InvocationInput(scope.ServiceProvider, CancellationToken.None, QueueMessage: message));
                foreach (var (name, output) in FunctionInvoker.QueueOutputs(returned))
                {
                    await queue.SendAsync(name, new OutgoingQueueMessage(output));
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            await renewal.CancelAsync();
            await renewTask;
            if (failure is null)
            {
                if (!await queue.CompleteAsync(message))
                {
                    logger.LogWarning("Message {MessageId} on {Queue} lost its lock before completion; it may be delivered again.", message.MessageId, _queueName);
                }
            }
            else
            {
                logger.LogWarning(failure, "Function {Function} failed message {MessageId} (delivery {Delivery}).", function.Name, message.MessageId, message.DeliveryCount);
                await queue.AbandonAsync(message, failure.Message);
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Delivering message {MessageId} on {Queue} failed.", message.MessageId, _queueName);
            await renewal.CancelAsync();
            await queue.AbandonAsync(message, ex.Message);
        }
        finally
        {
            slots.Release();
            queue.Signal(_queueName).Set();
        }
    }

    private async Task RenewLockAsync(ReceivedQueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(queue.Options.LockDuration / 2, time);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await queue.RenewLockAsync(message, CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

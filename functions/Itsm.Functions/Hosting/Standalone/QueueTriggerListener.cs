namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Delivers messages of the embedded queue to one queue-triggered function, like the Service Bus extension:
/// peek-lock, lock renewal while the function runs, complete on success, abandon on failure.
/// </summary>
public sealed class QueueTriggerListener(
    FunctionDefinition function,
    EmbeddedQueue queue,
    StandaloneInvoker invoker,
    TimeProvider time,
    ILogger<QueueTriggerListener> logger) : BackgroundService
{
    private readonly string _queueName = ((ServiceBusQueueTrigger)function.Trigger).QueueName;
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
            var result = await invoker.InvokeQueueAsync(function, message, CancellationToken.None);
            await renewal.CancelAsync();
            await renewTask;
            if (result.Succeeded)
            {
                if (!await queue.CompleteAsync(message))
                {
                    logger.LogWarning("Message {MessageId} on {Queue} lost its lock before completion; it may be delivered again.", message.MessageId, _queueName);
                }
            }
            else
            {
                var reason = result.ProblemDetail() ?? $"The function answered {result.StatusCode}.";
                logger.LogWarning("Function {Function} failed message {MessageId} (delivery {Delivery}): {Reason}", function.Name, message.MessageId, message.DeliveryCount, reason);
                await queue.AbandonAsync(message, reason);
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

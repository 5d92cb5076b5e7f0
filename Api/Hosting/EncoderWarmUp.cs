using Microsoft.Extensions.Options;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Hosting;

/// <summary>Runs one encoder pass at start-up; /readyz turns ready after it.</summary>
public sealed class EncoderWarmUp(ServedModel model, IOptions<EncoderOptions> options, ILogger<EncoderWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (options.Value.WarmUp) await model.Encoder.WarmUpAsync(stoppingToken);
            model.Ready = true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        catch (Exception e)
        {
            logger.LogError(e, "Encoder warm-up failed; /readyz stays unready");
        }
    }
}

using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Prm.Functions;
using Prm.Functions.Http;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<PrmHttpMiddleware>();
builder.Services.AddPrmApplication(builder.Configuration);
// OpenTelemetry: Application Insights (managed identity) when APPLICATIONINSIGHTS_CONNECTION_STRING is set, OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is.
Prm.Functions.Telemetry.TelemetryRegistration.AddPrmTelemetry(builder.Services, builder.Configuration, functionsHost: true);
builder.Build().Run();

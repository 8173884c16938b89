using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Prm.Functions;
using Prm.Functions.Http;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<PrmHttpMiddleware>();
builder.Services.AddPrmApplication(builder.Configuration);
builder.Build().Run();

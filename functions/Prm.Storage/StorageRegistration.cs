using Microsoft.Extensions.Logging;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Prm.Core.Identity;
using Prm.Core.Outbox;
using Prm.Core.Partners;
using Prm.Storage.Files;
using Prm.Storage.Outbox;
using Prm.Storage.Partners;

namespace Prm.Storage;

/// <summary>Registers the storage, messaging and email adapters.</summary>
public static class StorageRegistration
{
    public static IServiceCollection AddPrmStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var storage = configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        var serviceBus = configuration.GetSection(ServiceBusOptions.SectionName).Get<ServiceBusOptions>() ?? new ServiceBusOptions();
        var sendGrid = configuration.GetSection(SendGridOptions.SectionName).Get<SendGridOptions>() ?? new SendGridOptions();
        var outbox = configuration.GetSection(OutboxOptions.SectionName).Get<OutboxOptions>() ?? new OutboxOptions();
        var delivery = configuration.GetSection(DeliveryOptions.SectionName).Get<DeliveryOptions>() ?? new DeliveryOptions();
        services.AddSingleton(storage).AddSingleton(serviceBus).AddSingleton(sendGrid).AddSingleton(outbox).AddSingleton(delivery);
        services.AddHostedService<DeliveryGuard>();

        services.AddSingleton<PrmTables>();
        services.AddSingleton<BlobFiles>();
        services.AddSingleton(new OutboxSignal(Math.Max(1, outbox.DeliveryLanes)));
        services.AddSingleton<PrmQueues>();
        services.AddSingleton<OutboxQueue>();
        services.AddSingleton<OutboxPointers>();
        services.AddSingleton<PartitionWriter>();
        services.AddSingleton<PartnerIndex>();
        services.AddSingleton<TablePartnerStore>();
        services.AddSingleton<IPartnerStore>(sp => sp.GetRequiredService<TablePartnerStore>());
        services.AddSingleton<IStaffStore, TableStaffStore>();
        services.AddSingleton<IIdentityDirectory, TableIdentityDirectory>();
        services.AddSingleton<Prm.Core.Approvals.IDecisionLinkStore, Approvals.TableDecisionLinkStore>();
        services.AddSingleton<Prm.Core.Settings.ISettingsStore, Settings.TableSettingsStore>();
        services.AddSingleton<Prm.Core.Notifications.INotificationStore, Notifications.TableNotificationStore>();
        services.AddSingleton<IOutboxProjection, PartnerProjection>();
        services.AddSingleton<DevMailbox>();
        services.AddSingleton<DevEventSink>();
        services.AddSingleton(configuration.GetSection(EventEnvelopeOptions.SectionName).Get<EventEnvelopeOptions>() ?? new EventEnvelopeOptions());
        services.AddSingleton<CloudEventEnvelope>();

        if (string.IsNullOrWhiteSpace(serviceBus.FullyQualifiedNamespace))
        {
            services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<DevEventSink>());
        }
        else
        {
            services.AddSingleton(_ => new ServiceBusClient(serviceBus.FullyQualifiedNamespace, Credentials.For(storage)));
            services.AddSingleton<IEventPublisher>(sp => new ServiceBusEventPublisher(sp.GetRequiredService<ServiceBusClient>().CreateSender(serviceBus.TopicName), sp.GetRequiredService<CloudEventEnvelope>()));
        }
        if (string.IsNullOrWhiteSpace(sendGrid.ApiKey))
        {
            services.AddSingleton<IEmailSender>(sp => sp.GetRequiredService<DevMailbox>());
        }
        else if (sendGrid.KeyIsUnresolvedReference)
        {
            services.AddSingleton<IEmailSender, UnresolvedKeyEmailSender>();
        }
        else
        {
            services.AddSingleton<IEmailSender>(_ => new SendGridEmailSender(sendGrid));
        }
        services.AddSingleton<PlatformHealth>();
        services.AddSingleton<StorageInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageInitializer>());
        services.AddSingleton<OutboxDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        services.AddSingleton<OutboxOperations>();
        services.AddSingleton(configuration.GetSection(Privacy.PrivacyOptions.SectionName).Get<Privacy.PrivacyOptions>() ?? new Privacy.PrivacyOptions());
        services.AddSingleton<Privacy.PersonalData>();
        return services;
    }
}

/// <summary>The storage adapters of deal registration: registrations, claims and the conflict index, the catalog, house accounts, the deal projection.</summary>
public static class DealStorageRegistration
{
    public static IServiceCollection AddDealStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Deals.IDealStore, Deals.TableDealStore>();
        services.AddSingleton<Prm.Core.Deals.IProductLineStore, Deals.TableProductLineStore>();
        services.AddSingleton<Prm.Core.Deals.IHouseAccountStore, Deals.TableHouseAccountStore>();
        services.AddSingleton<IOutboxProjection, Deals.DealProjection>();
        return services;
    }
}

/// <summary>The storage adapter of the KPIs (one table, a partition per partner).</summary>
public static class AnalyticsStorageRegistration
{
    public static IServiceCollection AddAnalyticsStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Analytics.IKpiStore, Analytics.TableKpiStore>();
        services.AddSingleton<Prm.Core.Pos.IPosStore, Pos.TablePosStore>();
        return services;
    }
}

/// <summary>The storage adapter of tiers (rows in the partner's partition, FX rows in the settings table).</summary>
public static class TierStorageRegistration
{
    public static IServiceCollection AddTierStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Tiers.ITierStore, Tiers.TableTierStore>();
        return services;
    }
}

/// <summary>The storage adapter of incentives (one table: programs, periods, a partition per partner's ledgers and payouts).</summary>
public static class IncentiveStorageRegistration
{
    public static IServiceCollection AddIncentiveStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Incentives.IIncentiveStore, Incentives.TableIncentiveStore>();
        return services;
    }
}

/// <summary>The storage adapter of joint business plans (one table, a partition per partner).</summary>
public static class PlanStorageRegistration
{
    public static IServiceCollection AddPlanStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Plans.IPlanStore, Plans.TablePlanStore>();
        return services;
    }
}

/// <summary>The storage adapter of training and certification (one table).</summary>
public static class TrainingStorageRegistration
{
    public static IServiceCollection AddTrainingStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Training.ITrainingStore, Training.TableTrainingStore>();
        return services;
    }
}

/// <summary>The storage adapters of MDF: budget partitions (budget, ledger, requests, claims), proof blobs, and the deal attribution it reads.</summary>
public static class MdfStorageRegistration
{
    public static IServiceCollection AddMdfStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Mdf.IMdfStore, Mdf.TableMdfStore>();
        services.AddSingleton<Prm.Core.Mdf.IMdfProofFiles, Mdf.BlobProofFiles>();
        services.AddSingleton<Prm.Core.Mdf.IMdfAttribution, Deals.TableMdfAttribution>();
        return services;
    }
}

/// <summary>
/// The storage adapters of onboarding: applications (with their queue index and rate-limit counters) and the agreement documents, with
/// the version the storage seeds at start (Agreement:CurrentVersion, read by <see cref="StorageInitializer"/>).
/// </summary>
public static class OnboardingStorageRegistration
{
    public static IServiceCollection AddOnboardingStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection(Prm.Core.Onboarding.AgreementOptions.SectionName).Get<Prm.Core.Onboarding.AgreementOptions>() ?? new Prm.Core.Onboarding.AgreementOptions());
        services.AddSingleton<Prm.Core.Onboarding.IApplicationStore, Onboarding.TableApplicationStore>();
        services.AddSingleton<Onboarding.BlobAgreementDocuments>();
        services.AddSingleton<Prm.Core.Onboarding.IAgreementDocuments>(sp => sp.GetRequiredService<Onboarding.BlobAgreementDocuments>());
        return services;
    }
}

/// <summary>What the health check reports beyond storage answering: start-up not finished, configuration the app cannot work with.</summary>
public sealed class PlatformHealth(SendGridOptions sendGrid)
{
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Tables, containers and the agreement document exist (start-up initialization finished).</summary>
    public bool StorageReady => ready.Task.IsCompleted;

    /// <summary>Completes when <see cref="StorageReady"/> becomes true: background sweeps wait for it instead of failing on tables not yet created.</summary>
    public Task WhenStorageReady => ready.Task;

    internal void MarkStorageReady() => ready.TrySetResult();

    /// <summary>Problems that leave the app running but break a part of it (e.g. email), for operators.</summary>
    public IReadOnlyList<string> Problems => sendGrid.KeyIsUnresolvedReference ? [SendGridOptions.UnresolvedReferenceProblem] : [];
}

/// <summary>
/// Creates tables and containers at start-up. A fresh deployment can start before its role assignments have propagated (storage answers
/// 403) or while the identity endpoint is not ready: then the first attempt does not crash the host; it retries in the background with
/// a growing pause (2 s doubling to 60 s) until it succeeds, and the health check answers 503 until then. Any other failure is a bug
/// or a misconfiguration and stops the start.
/// </summary>
public sealed class StorageInitializer(PrmTables tables, BlobFiles files, Onboarding.BlobAgreementDocuments agreements, Prm.Core.Onboarding.AgreementOptions agreement,
    PlatformHealth health, ILogger<StorageInitializer> log) : BackgroundService
{
    private Func<CancellationToken, Task> steps = _ => Task.CompletedTask;

    /// <summary>The pause before retry number <paramref name="attempt"/> (1-based); tests shorten it.</summary>
    public Func<int, TimeSpan> Pause { get; set; } = attempt => TimeSpan.FromSeconds(Math.Min(60, 2 * Math.Pow(2, Math.Min(attempt - 1, 5))));

    /// <summary>Replaces the steps of the initialization (tests); null runs the real ones.</summary>
    public Func<CancellationToken, Task>? Steps { get; set; }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        steps = Steps ?? (async ct =>
        {
            await tables.EnsureCreatedAsync(ct);
            await files.EnsureContainersAsync(ct);
            await agreements.EnsureAsync(agreement.CurrentVersion, ct);
        });
        try
        {
            await steps(cancellationToken);
            health.MarkStorageReady();
        }
        catch (Exception ex) when (IsWaitingForAccess(ex))
        {
            log.LogWarning(ex, "Storage initialization could not reach storage yet (role assignments may still be propagating); retrying in the background, /api/health answers 503 until it succeeds");
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (health.StorageReady) return;
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await Task.Delay(Pause(attempt), stoppingToken);
                await steps(stoppingToken);
                health.MarkStorageReady();
                log.LogInformation("Storage initialization succeeded after {Attempts} retries", attempt);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsWaitingForAccess(ex))
            {
                log.LogWarning("Storage initialization retry {Attempt} failed: {Reason}", attempt, ex.Message);
            }
        }
    }

    /// <summary>Storage refusing access (401/403), not answering, or the identity not ready: conditions a fresh deployment outgrows.</summary>
    public static bool IsWaitingForAccess(Exception ex) => ex switch
    {
        Azure.RequestFailedException failed => failed.Status is 0 or 401 or 403 or 408 or 429 or 500 or 502 or 503 or 504,
        Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException => true,
        HttpRequestException or TimeoutException or System.Net.Sockets.SocketException => true,
        AggregateException all => all.InnerExceptions.Count > 0 && all.InnerExceptions.All(IsWaitingForAccess),
        _ => false,
    };
}

/// <summary>The storage adapters of the content library: the assets table (catalog partition, downloads) and the asset blobs.</summary>
public static class ContentStorageRegistration
{
    public static IServiceCollection AddContentStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Content.IAssetStore, Content.TableAssetStore>();
        services.AddSingleton<Prm.Core.Content.IAssetFiles, Content.BlobAssetFiles>();
        services.AddSingleton<Prm.Core.Content.IDigestStore, Content.TableDigestStore>();
        services.AddSingleton<Prm.Core.Content.ICoBrandRenderer, Content.PdfCoBranding>();
        services.AddSingleton<Prm.Core.Content.IPartnerLogos, Content.BlobPartnerLogos>();
        return services;
    }
}

/// <summary>The storage adapters of lead distribution: lead partitions and key rows, the lead lists, the routing index and partner figures (kept from the outbox).</summary>
public static class LeadStorageRegistration
{
    public static IServiceCollection AddLeadStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Leads.ILeadStore, Leads.TableLeadStore>();
        services.AddSingleton<Leads.TableLeadRoutingIndex>();
        services.AddSingleton<Prm.Core.Leads.ILeadRoutingIndex>(sp => sp.GetRequiredService<Leads.TableLeadRoutingIndex>());
        services.AddSingleton<Leads.LeadProjection>();
        services.AddSingleton<IOutboxProjection>(sp => sp.GetRequiredService<Leads.LeadProjection>());
        return services;
    }
}

/// <summary>The storage adapter of the portal home (combined reads of the modules' partitions, the visit rows).</summary>
public static class PortalStorageRegistration
{
    public static IServiceCollection AddPortalStorage(this IServiceCollection services)
    {
        services.AddSingleton<Prm.Core.Portal.IPortalHomeStore, Portal.TablePortalHomeStore>();
        return services;
    }
}

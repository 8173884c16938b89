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
        services.AddSingleton<IOutboxProjection, PartnerProjection>();
        services.AddSingleton<DevMailbox>();
        services.AddSingleton<DevEventSink>();

        if (string.IsNullOrWhiteSpace(serviceBus.FullyQualifiedNamespace))
        {
            services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<DevEventSink>());
        }
        else
        {
            services.AddSingleton(_ => new ServiceBusClient(serviceBus.FullyQualifiedNamespace, Credentials.For(storage)));
            services.AddSingleton<IEventPublisher>(sp => new ServiceBusEventPublisher(sp.GetRequiredService<ServiceBusClient>().CreateSender(serviceBus.TopicName)));
        }
        if (string.IsNullOrWhiteSpace(sendGrid.ApiKey))
        {
            services.AddSingleton<IEmailSender>(sp => sp.GetRequiredService<DevMailbox>());
        }
        else
        {
            services.AddSingleton<IEmailSender>(_ => new SendGridEmailSender(sendGrid));
        }
        services.AddHostedService<StorageInitializer>();
        services.AddSingleton<OutboxDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
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

/// <summary>Creates tables and containers at start-up, before the host takes requests.</summary>
public sealed class StorageInitializer(PrmTables tables, BlobFiles files, Onboarding.BlobAgreementDocuments agreements, Prm.Core.Onboarding.AgreementOptions agreement) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync(cancellationToken);
        await files.EnsureContainersAsync(cancellationToken);
        await agreements.EnsureAsync(agreement.CurrentVersion, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
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

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prm.Core.Onboarding;
using Prm.Core.Settings;

namespace Prm.Functions.Tests;

/// <summary>The one onboarding settings record: defaults in code, the configuration keys operators and tests always used override them at start.</summary>
public sealed class OnboardingSettingsDefaultsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["AzureAd:Instance"] = "https://login.microsoftonline.com/",
            ["AzureAd:TenantId"] = "11111111-1111-1111-1111-111111111111",
            ["AzureAd:ClientId"] = "22222222-2222-2222-2222-222222222222",
            ["Storage:ConnectionString"] = "UseDevelopmentStorage=true",
        };
        foreach (var (key, value) in settings) values[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPrmApplication(configuration);
        return services.BuildServiceProvider();
    }

    private static OnboardingSettings Defaults(ServiceProvider provider) =>
        (OnboardingSettings)provider.GetServices<ISettingsSection>().Single(s => s.Name == OnboardingSettings.SectionName).Defaults();

    [Fact]
    public void Without_configuration_the_defaults_are_the_records_initializers()
    {
        using var provider = Build([]);
        Defaults(provider).Should().BeEquivalentTo(new OnboardingSettings());
        provider.GetRequiredService<SubmissionLimits>().MaxPerEmailPerHour.Should().Be(3);
        provider.GetRequiredService<AgreementOptions>().CurrentVersion.Should().Be(new OnboardingSettings().AgreementVersion, "the seeded document is the default version");
    }

    [Fact]
    public void The_onboarding_review_and_agreement_sections_override_the_defaults_at_start()
    {
        using var provider = Build(new()
        {
            ["Review:ReviewReminderAfter"] = "00:00:02",
            ["Review:InfoAnswerWithin"] = "00:00:05",
            ["Onboarding:ChecklistFirstReminderAfter"] = "00:00:03",
            ["Onboarding:TargetCountryPoints"] = "35",
            ["Onboarding:MaxPerEmailPerHour"] = "5",
            ["Agreement:FirstReminderAfter"] = "00:10:00",
            ["Agreement:SecondReminderAfter"] = "00:20:00",
            ["Agreement:ExpiresAfter"] = "00:30:00",
            ["Agreement:CurrentVersion"] = "2026-07",
        });
        var defaults = Defaults(provider);
        defaults.Should().BeEquivalentTo(new OnboardingSettings
        {
            ReviewReminderAfter = TimeSpan.FromSeconds(2),
            InfoAnswerWithin = TimeSpan.FromSeconds(5),
            ChecklistFirstReminderAfter = TimeSpan.FromSeconds(3),
            TargetCountryPoints = 35,
            AgreementFirstReminderAfter = TimeSpan.FromMinutes(10),
            AgreementSecondReminderAfter = TimeSpan.FromMinutes(20),
            AgreementExpiresAfter = TimeSpan.FromMinutes(30),
            AgreementVersion = "2026-07",
        });
        provider.GetRequiredService<SubmissionLimits>().MaxPerEmailPerHour.Should().Be(5, "the form's abuse limits stay options of the same section");
        provider.GetRequiredService<AgreementOptions>().CurrentVersion.Should().Be("2026-07");
    }

    [Fact]
    public void Each_read_of_the_defaults_is_a_copy()
    {
        using var provider = Build([]);
        Defaults(provider).TargetCountries.Add("XX");
        Defaults(provider).TargetCountries.Should().NotContain("XX");
    }
}

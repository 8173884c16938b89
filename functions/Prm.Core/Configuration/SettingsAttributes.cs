namespace Prm.Core.Configuration;

/// <summary>Marks a setting that exists only for local development (e.g. an emulator connection string); Azure uses identity-based access instead.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class LocalDevelopmentOnlyAttribute : Attribute;

/// <summary>Marks a setting that must come from Key Vault in Azure (a secret that cannot be avoided).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SecretSettingAttribute : Attribute;

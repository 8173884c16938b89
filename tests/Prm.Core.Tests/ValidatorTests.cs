using Prm.Core.Common;
using Prm.Core.Partners;

namespace Prm.Core.Tests;

public class ValidatorTests
{
    private static readonly CreatePartnerValidator Create = new();
    private static readonly PatchPartnerValidator Patch = new();
    private static readonly InviteUserValidator Invite = new();
    private static readonly PatchUserValidator PatchUser = new();

    private static CreatePartnerRequest ValidCreate(NewPartnerAdmin? admin = null) =>
        new("Acme GmbH", "acme.com", "DE", "emea", "gold", "reseller", "Active", null, "https://acme.com", "+49 30 1234", "Sells things", "Berlin", admin);

    private static PatchPartnerRequest EmptyPatch() => new(null, null, null, null, null, null, null, null, null, null, null);

    private static IReadOnlyDictionary<string, string[]> Errors<T>(T body, FluentValidation.IValidator<T> validator) where T : class
    {
        var act = () => Validate.Body(body, validator);
        return act.Should().Throw<ValidationFailedException>().Which.Errors;
    }

    /// <summary>Loads its own copies of Prm.Core and FluentValidation, as a fresh process would, with untouched global options.</summary>
    private sealed class FreshContext() : System.Runtime.Loader.AssemblyLoadContext("fresh-validation", isCollectible: true)
    {
        private static readonly string[] Isolated = [typeof(Validate).Assembly.GetName().Name!, typeof(FluentValidation.IValidator).Assembly.GetName().Name!];

        protected override System.Reflection.Assembly? Load(System.Reflection.AssemblyName name)
        {
            if (!Isolated.Contains(name.Name)) return null;
            return LoadFromAssemblyPath(Path.Combine(AppContext.BaseDirectory, name.Name + ".dll"));
        }
    }

    [Fact]
    public void Messages_and_keys_are_camel_case_from_process_start_even_before_Validate_is_used()
    {
        var context = new FreshContext();
        try
        {
            var core = context.LoadFromAssemblyName(typeof(CreatePartnerValidator).Assembly.GetName());
            core.Should().NotBeSameAs(typeof(CreatePartnerValidator).Assembly);
            var validatorType = core.GetType(typeof(CreatePartnerValidator).FullName!)!;
            validatorType.GetMethod("Validate", [validatorType.BaseType!.GetGenericArguments()[0]])!.DeclaringType!.Assembly
                .Should().NotBeSameAs(typeof(FluentValidation.IValidator).Assembly, "the fresh context has its own FluentValidation and so its own global options");
            var requestType = core.GetType(typeof(CreatePartnerRequest).FullName!)!;
            var request = Activator.CreateInstance(requestType, ["Acme", "acme.com", "Germany", "emea", null, null, null, null, null, null, null, null, null]);
            var validator = Activator.CreateInstance(validatorType)!;

            // Only the validator runs here, exactly as the import's row check does; Prm.Core.Common.Validate is never touched.
            var result = validatorType.GetMethod("Validate", [requestType])!.Invoke(validator, [request])!;
            var errors = ((System.Collections.IEnumerable)result.GetType().GetProperty("Errors")!.GetValue(result)!).Cast<object>()
                .Select(e => (Key: (string)e.GetType().GetProperty("PropertyName")!.GetValue(e)!, Message: (string)e.GetType().GetProperty("ErrorMessage")!.GetValue(e)!))
                .ToList();

            errors.Should().Equal([("country", "country must be an ISO 3166-1 alpha-2 code such as DE.")]);
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void A_valid_create_request_passes_and_is_returned()
    {
        var body = ValidCreate(new NewPartnerAdmin("jane@acme.com", "Jane"));

        Validate.Body(body, Create).Should().BeSameAs(body);
    }

    [Fact]
    public void A_null_body_is_a_body_error()
    {
        var act = () => Validate.Body<CreatePartnerRequest>(null, Create);

        var error = act.Should().Throw<ValidationFailedException>().Which;
        error.Errors.Keys.Should().Equal("body");
        error.Unprocessable.Should().BeFalse();
    }

    [Fact]
    public void Create_errors_are_keyed_by_camel_case_field()
    {
        var errors = Errors(ValidCreate() with { Domain = "localhost", Country = "Germany", Region = "europe" }, Create);

        errors.Keys.Should().BeEquivalentTo(["domain", "country", "region"]);
        errors["domain"].Should().ContainSingle().Which.Should().Be("domain must be a domain name such as example.com.");
        errors["country"].Should().ContainSingle().Which.Should().Be("country must be an ISO 3166-1 alpha-2 code such as DE.");
        errors["region"].Should().ContainSingle().Which.Should().Be("region must be one of: amer, emea, apac.");
    }

    [Fact]
    public void Create_requires_name_domain_country_and_region()
    {
        var errors = Errors(new CreatePartnerRequest(null, null, null, null, null, null, null, null, null, null, null, null, null), Create);

        errors.Keys.Should().BeEquivalentTo(["name", "domain", "country", "region"]);
    }

    [Fact]
    public void Multi_word_fields_are_camel_cased()
    {
        var errors = Errors(ValidCreate() with { PartnerType = "wholesaler", Website = "ftp://acme.com" }, Create);

        errors.Keys.Should().BeEquivalentTo(["partnerType", "website"]);
        errors["website"].Single().Should().Be("website must be an http(s) URL.");
    }

    [Fact]
    public void The_admin_email_error_is_keyed_admin_email()
    {
        var errors = Errors(ValidCreate(new NewPartnerAdmin("not-an-email", "Jane")), Create);

        errors.Keys.Should().Equal("admin.email");
    }

    [Fact]
    public void The_admin_needs_a_display_name()
    {
        var errors = Errors(ValidCreate(new NewPartnerAdmin("jane@acme.com", " ")), Create);

        errors.Keys.Should().Equal("admin.displayName");
    }

    [Fact]
    public void An_invalid_tier_lists_the_allowed_values_in_camel_case()
    {
        var errors = Errors(ValidCreate() with { Tier = "diamond" }, Create);

        errors["tier"].Single().Should().Be("tier must be one of: registered, silver, gold, platinum.");
    }

    [Fact]
    public void An_invalid_status_lists_the_allowed_values_in_pascal_case()
    {
        var errors = Errors(ValidCreate() with { Status = "open" }, Create);

        errors["status"].Single().Should().Be("status must be one of: Active, AgreementPending, AgreementExpired, Suspended, Terminated.");
    }

    [Fact]
    public void Enum_fields_accept_both_camel_and_pascal_case()
    {
        var body = ValidCreate() with { Tier = "Platinum", Status = "agreementPending", PartnerType = "Msp" };

        Validate.Body(body, Create).Should().BeSameAs(body);
    }

    [Fact]
    public void The_name_is_limited_to_200_characters()
    {
        Validate.Body(ValidCreate() with { Name = new string('n', 200) }, Create);

        Errors(ValidCreate() with { Name = new string('n', 201) }, Create).Keys.Should().Equal("name");
    }

    [Fact]
    public void The_exception_detail_joins_the_first_message_of_each_field()
    {
        var act = () => Validate.Body(ValidCreate() with { Domain = "x", Country = "xx" }, Create);

        var error = act.Should().Throw<ValidationFailedException>().Which;
        error.Message.Should().Contain("domain must be").And.Contain("country must be");
    }

    [Fact]
    public void An_empty_patch_is_valid()
    {
        var body = EmptyPatch();

        Validate.Body(body, Patch).Should().BeSameAs(body);
    }

    [Fact]
    public void Patch_errors_are_keyed_by_camel_case_field()
    {
        var errors = Errors(EmptyPatch() with { Name = "   ", Country = "de", Tier = "bronze", ChannelManagerId = "anything" }, Patch);

        errors.Keys.Should().BeEquivalentTo(["name", "country", "tier"]);
        errors["name"].Single().Should().Be("name must not be empty.");
        errors["tier"].Single().Should().Contain("registered, silver, gold, platinum");
    }

    [Fact]
    public void Patch_limits_free_text_fields()
    {
        var errors = Errors(EmptyPatch() with { Description = new string('d', 2001), Phone = new string('1', 51), City = new string('c', 101) }, Patch);

        errors.Keys.Should().BeEquivalentTo(["description", "phone", "city"]);
    }

    [Fact]
    public void A_valid_invitation_passes()
    {
        var body = new InviteUserRequest("jane@acme.com", "Jane Doe", "partnerAdmin");

        Validate.Body(body, Invite).Should().BeSameAs(body);
    }

    [Fact]
    public void Invitation_errors_are_keyed_by_camel_case_field()
    {
        var errors = Errors(new InviteUserRequest("jane(at)acme.com", "", null), Invite);

        errors.Keys.Should().BeEquivalentTo(["email", "displayName"]);
        errors["email"].Should().Contain("email must be an email address.");
    }

    [Fact]
    public void An_invalid_role_lists_the_partner_roles()
    {
        var errors = Errors(new InviteUserRequest("jane@acme.com", "Jane", "owner"), Invite);

        errors["role"].Single().Should().Be("role must be one of: PartnerAdmin, PartnerUser.");
    }

    [Fact]
    public void A_null_invitation_body_is_a_body_error()
    {
        var act = () => Validate.Body<InviteUserRequest>(null, Invite);

        act.Should().Throw<ValidationFailedException>().Which.Errors.Should().ContainKey("body");
    }

    [Fact]
    public void A_user_patch_cannot_blank_the_display_name()
    {
        var errors = Errors(new PatchUserRequest(" ", "admin"), PatchUser);

        errors.Keys.Should().BeEquivalentTo(["displayName", "role"]);
    }
}

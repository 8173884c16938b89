using Prm.Core.Common;
using Prm.Core.Identity;
using Prm.Core.Settings;

namespace Prm.Core.Mdf;

/// <summary>
/// Claims of approved fund requests: the partner opens the claim, uploads proofs of performance (write-only SAS for one blob, then
/// checked by content), submits it before the claim deadline; the reviewer reads the proofs (read-only SAS) and approves, rejects or
/// asks for more.
/// </summary>
public sealed class Claims(IMdfStore store, IMdfProofFiles files, MdfCommits commits, ProgramSettings settings, TimeProvider clock)
{
    /// <summary>Lifetime of a proof upload URL.</summary>
    public static readonly TimeSpan UploadLifetime = TimeSpan.FromMinutes(15);

    /// <summary>Lifetime of a reviewer's proof read URL.</summary>
    public static readonly TimeSpan ReadLifetime = TimeSpan.FromMinutes(5);

    public async Task<Versioned<ClaimDto>> CreateAsync(Caller caller, string requestId, ClaimInput? body, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, requestId, "mdr", ct);
        RequirePartner(caller, visible, "The partner files the claim.");
        Validate.Body(body, new ClaimValidator(visible.Request.MaxClaim));
        var claimId = Ids.New("mdc");
        await store.RegisterIdAsync(claimId, visible.Request.BudgetId, requestId, ct);
        var result = await commits.ApplyAsync(caller, requestId, state => Task.FromResult<MdfChange?>(state.Request.OpenClaim(new MdfClaim
        {
            Id = claimId, Status = MdfClaimStatus.Draft, ClaimedAmount = body!.ClaimedAmount!.ToMoney(), ActualLeads = body.ActualLeads ?? 0, Attendees = body.Attendees,
            Notes = body.Notes?.Trim(), CreatedAt = clock.GetUtcNow(), CreatedById = caller.UserId,
        })), ct);
        return Result(result);
    }

    public async Task<Versioned<ClaimDto>> GetAsync(Caller caller, string claimId, CancellationToken ct) => Result((await commits.LoadAsync(caller, claimId, "mdc", ct)).State);

    /// <summary>A slot for one proof file: a write-only SAS URL for one blob, valid 15 minutes.</summary>
    public async Task<ProofUpload> AddProofAsync(Caller caller, string claimId, ProofUploadInput? body, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, claimId, "mdc", ct);
        RequirePartner(caller, visible, "The partner uploads proofs.");
        if (body?.FileName is { Length: > 200 }) throw new ValidationFailedException("fileName", "fileName takes at most 200 characters.");
        var proofId = Ids.New("mdp");
        var blob = $"{visible.Request.Id}/{claimId}/{proofId}";
        await commits.ApplyAsync(caller, visible.Request.Id, state =>
            Task.FromResult<MdfChange?>(state.Request.AddProof(new MdfProof(proofId, blob, body?.FileName?.Trim(), ProofStatus.Pending, null, null, null, clock.GetUtcNow(), null))), ct);
        var url = await files.UploadUrlAsync(blob, UploadLifetime, ct);
        return new ProofUpload(proofId, url.ToString(), clock.GetUtcNow() + UploadLifetime, ProofSniffer.MaxSize, ProofSniffer.AllowedContentTypes);
    }

    /// <summary>Checks the uploaded blob: at most 25 MiB and a PDF, PNG, JPEG, XLSX or CSV by its first bytes; anything else is deleted and refused.</summary>
    public async Task<Versioned<ClaimDto>> CompleteProofAsync(Caller caller, string claimId, string proofId, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, claimId, "mdc", ct);
        RequirePartner(caller, visible, "The partner uploads proofs.");
        var proof = visible.Request.Claim!.Proofs.FirstOrDefault(p => p.Id == proofId) ?? throw new NotFoundException("Proof");
        if (proof.Status == ProofStatus.Verified) return Result(visible.State);
        var inspected = await files.InspectAsync(proof.BlobName, ProofSniffer.HeadBytes, ct)
            ?? throw new ValidationFailedException("proofId", "Nothing was uploaded for this proof yet; PUT the file to the upload URL first.", unprocessable: true);
        var type = ProofSniffer.Detect(inspected.Head, inspected.Size);
        if (ProofSniffer.IsTooLarge(inspected.Size) || type == ProofType.Unknown)
        {
            await files.DeleteAsync(proof.BlobName, ct);
            await commits.ApplyAsync(caller, visible.Request.Id, state => Task.FromResult(state.Request.DropProof(proofId, $"{proofId}: size {inspected.Size}, type {type}")), ct);
            throw ProofSniffer.IsTooLarge(inspected.Size)
                ? new ValidationFailedException("file", $"The file has {inspected.Size} bytes; a proof takes at most {ProofSniffer.MaxSize} bytes (25 MiB). It was deleted.", unprocessable: true)
                : new ValidationFailedException("file", "The file is not a PDF, PNG, JPEG, XLSX or CSV document (judged by its content, not its name). It was deleted.", unprocessable: true);
        }
        var contentType = ProofSniffer.ContentTypes[type];
        await files.SetContentTypeAsync(proof.BlobName, contentType, ct);
        var result = await commits.ApplyAsync(caller, visible.Request.Id, state =>
            Task.FromResult(state.Request.VerifyProof(proofId, Text.Camel(type), contentType, inspected.Size, clock.GetUtcNow())), ct);
        return Result(result);
    }

    /// <summary>A read-only link (5 minutes) to a verified proof, for the reviewers (channel manager of the partner, admins).</summary>
    public async Task<ProofLink> ProofLinkAsync(Caller caller, string claimId, string proofId, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, claimId, "mdc", ct);
        if (!MdfAccess.Allows(caller, MdfOperation.Manage, visible.Request.PartnerId, visible.PartnerOwnerId)) throw new ForbiddenException("Reviewers read proofs through links; partners see the list.");
        var proof = visible.Request.Claim!.Proofs.FirstOrDefault(p => p.Id == proofId && p.Status == ProofStatus.Verified) ?? throw new NotFoundException("Proof");
        var url = await files.ReadUrlAsync(proof.BlobName, ReadLifetime, ct);
        return new ProofLink(proof.Id, url.ToString(), clock.GetUtcNow() + ReadLifetime);
    }

    /// <summary>Submits (or, after "request info", resubmits) the claim: at least one verified proof; the claimed amount moves to claimed in the ledger.</summary>
    public async Task<Versioned<ClaimDto>> SubmitAsync(Caller caller, string claimId, ClaimInput? body, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, claimId, "mdc", ct);
        RequirePartner(caller, visible, "The partner submits the claim.");
        if (body is not null) Validate.Body(body, new ClaimValidator(visible.Request.MaxClaim));
        var rules = await settings.GetAsync<MdfSettings>(MdfSettings.SectionName, ct);
        var result = await commits.ApplyAsync(caller, visible.Request.Id, state => Task.FromResult<MdfChange?>(state.Request.SubmitClaim(body, rules, clock.GetUtcNow())), ct, loaded: visible.State);
        return Result(result);
    }

    /// <summary>approve (amount, default the claimed amount; the rest of the reservation returns to available), reject (final; the reservation returns), requestInfo (back to the partner).</summary>
    public async Task<Versioned<ClaimDto>> DecideAsync(Caller caller, string claimId, ClaimDecisionInput? body, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, claimId, "mdc", ct);
        if (!MdfAccess.Allows(caller, MdfOperation.Manage, visible.Request.PartnerId, visible.PartnerOwnerId)) throw new NotFoundException("Claim");
        Validate.Body(body, new ClaimDecisionValidator(visible.Request.Claim!.ClaimedAmount));
        var decision = Text.ParseEnum<MdfDecision>(body!.Decision)!.Value;
        var result = await commits.ApplyAsync(caller, visible.Request.Id, state => Task.FromResult<MdfChange?>(state.Request.DecideClaim(decision, body.Amount?.ToMoney(),
            new MdfDecisionRecord("claim", body.Reason?.Trim(), caller.UserId, caller.DisplayName, clock.GetUtcNow()))), ct, loaded: visible.State);
        return Result(result);
    }

    /// <summary>Finance records the payout of an approved claim: Paid, final; the request is closed.</summary>
    public async Task<Versioned<ClaimDto>> PayoutAsync(Caller caller, string claimId, PayoutInput? body, CancellationToken ct)
    {
        var visible = await commits.LoadAsync(caller, claimId, "mdc", ct);
        if (!MdfAccess.Allows(caller, MdfOperation.Pay, visible.Request.PartnerId, visible.PartnerOwnerId)) throw new ForbiddenException("Finance (program admins) records payouts.");
        var input = Validate.Body(body, new PayoutValidator());
        var result = await commits.ApplyAsync(caller, visible.Request.Id, state => Task.FromResult<MdfChange?>(state.Request.Pay(input.PaymentReference!.Trim(), input.PaidOn!.Trim(),
            new MdfDecisionRecord("claimPaid", null, caller.UserId, caller.DisplayName, clock.GetUtcNow()))), ct, loaded: visible.State);
        return Result(result);
    }

    private static void RequirePartner(Caller caller, VisibleRequest visible, string message)
    {
        if (!MdfAccess.Allows(caller, MdfOperation.ActForPartner, visible.Request.PartnerId, visible.PartnerOwnerId)) throw new ForbiddenException(message);
    }

    private static Versioned<ClaimDto> Result(RequestState state) => new(ClaimDto.From(state.Request, state.Request.Claim ?? throw new NotFoundException("Claim")), state.ETag);
}

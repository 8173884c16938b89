using Prm.Core.Common;

namespace Prm.Core.Mdf;

/// <summary>Where a deal attributed to a funded activity stands, as far as ROI is concerned.</summary>
public enum AttributedDealStatus
{
    /// <summary>Registered and still open (submitted, under review or approved).</summary>
    Open,

    /// <summary>Closed won.</summary>
    Won,

    /// <summary>Closed lost.</summary>
    Lost,

    /// <summary>Protection expired without a close.</summary>
    Expired,

    /// <summary>The registration was rejected; it does not count at all.</summary>
    Rejected,
}

/// <summary>A deal registration attributed to a funded activity.</summary>
/// <param name="Status">Where it stands.</param>
/// <param name="Value">Its estimated (or, when won, closed) value, in the currency of the payout.</param>
public sealed record AttributedDeal(AttributedDealStatus Status, Money Value);

/// <summary>
/// Return on an MDF activity.
/// </summary>
/// <param name="Paid">Money paid out for the activity.</param>
/// <param name="Leads">Leads reported for the activity.</param>
/// <param name="RegisteredDeals">Attributed registrations, rejected ones excluded.</param>
/// <param name="PipelineValue">Pipeline generated: the value of every counted registration (open, won, lost, expired).</param>
/// <param name="WonValue">The value of the won registrations.</param>
/// <param name="CostPerLead">Paid / leads, rounded half-even to the currency's minor unit; null with no leads.</param>
/// <param name="ReturnOnSpend">Won / paid as a ratio (3.25 = 3.25 times the spend), rounded half-even to 2 decimals; null when nothing was paid.</param>
public sealed record MdfRoiResult(Money Paid, int Leads, int RegisteredDeals, Money PipelineValue, Money WonValue, Money? CostPerLead, decimal? ReturnOnSpend);

/// <summary>ROI of funded activities: leads and attributed deals against money paid.</summary>
public static class MdfRoi
{
    /// <summary>Decimals of <see cref="MdfRoiResult.ReturnOnSpend"/>.</summary>
    public const int RatioDecimals = 2;

    /// <summary>
    /// Computes the ROI of an activity. All deal values must be in the currency of <paramref name="paid"/>
    /// (<see cref="CurrencyMismatchException"/> otherwise: conversion is the caller's job).
    /// </summary>
    public static MdfRoiResult Compute(Money paid, int leads, IEnumerable<AttributedDeal> attributedDeals)
    {
        ArgumentNullException.ThrowIfNull(attributedDeals);
        ArgumentOutOfRangeException.ThrowIfNegative(leads);
        ArgumentOutOfRangeException.ThrowIfNegative(paid.Amount);
        var counted = attributedDeals.Where(d => d.Status != AttributedDealStatus.Rejected).ToList();
        var pipeline = MdfMoney.Sum(counted.Select(d => d.Value), paid.Currency).Round();
        var won = MdfMoney.Sum(counted.Where(d => d.Status == AttributedDealStatus.Won).Select(d => d.Value), paid.Currency).Round();
        Money? costPerLead = leads == 0 ? null : new Money(paid.Amount / leads, paid.Currency).Round();
        decimal? returnOnSpend = paid.Amount == 0 ? null : Math.Round(won.Amount / paid.Amount, RatioDecimals, MidpointRounding.ToEven);
        return new MdfRoiResult(paid.Round(), leads, counted.Count, pipeline, won, costPerLead, returnOnSpend);
    }
}

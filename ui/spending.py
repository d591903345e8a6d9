"""A person's spend as one line above their History: today and this month, by whose key
paid. Numbers and our own words only, so it is HTML as it stands."""

from __future__ import annotations

from playground.spend import Budgets, Spend, Summary

PAYERS = (("server", "on the server's key"), ("session", "on your own key"))


def period(spend: Spend) -> str:
    parts = []
    for payer, label in PAYERS:
        amount = spend.by_payer[payer]
        if amount.jobs:
            parts.append(f"<b>${amount.usd:.2f}</b>{' (estimated)' * amount.estimated} {label}")
    previews = spend.by_payer["none"].jobs
    if previews:
        parts.append(f"{previews} free preview{'s' * (previews > 1)} ($0)")
    return ", ".join(parts) or "nothing"


def spend_line(summary: Summary, budgets: Budgets) -> str:
    line = f"Your spend today: {period(summary.today)}; this month: {period(summary.month)}."
    if budgets.per_person_day is not None:
        left = max(budgets.per_person_day - summary.today.by_payer["server"].usd, 0.0)
        line += (f" Left today on the server's key: ${left:.2f} of "
                 f"${budgets.per_person_day:.2f}.")
    return (f"<p>{line}<br><small>Days and months in UTC, at the prices fal publishes; "
            "\"estimated\": fal publishes no price for a model used, counted at the highest "
            "known price of a similar job.</small></p>")

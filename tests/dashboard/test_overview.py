"""Dashboard: the store overview — revenue, payments, conversions and rate, the revenue chart
drawn on the server as inline SVG, and the subscriptions' MRR, counts and churn."""
from __future__ import annotations

import re
from datetime import timedelta

from checkie.catalog import stats as page_stats
from checkie.database import utcnow
from checkie.payments.models import PayoutStatus
from tests.factories import credit_payment, make_page, make_payment, make_payout, make_refund, make_store
from tests.http import login_as
from tests.subscription_factories import make_subscription


def test_overview_numbers_and_chart(client, db, user, store):
    page = make_page(db, store)
    page_stats.record_view(db, page.id, 40)
    page_stats.record_session(db, page.id, 8)
    page_stats.record_conversion(db, page.id, revenue=3000)
    page_stats.record_conversion(db, page.id, revenue=1500)
    credit_payment(db, store, make_payment(db, store, amount=3000))
    credit_payment(db, store, make_payment(db, store, amount=1500, created_at=utcnow() - timedelta(days=2)))
    credit_payment(db, store, make_payment(db, store, amount=800, currency="EUR"))
    credit_payment(db, store, make_payment(db, store, amount=99900, created_at=utcnow() - timedelta(days=45)))  # outside the chart
    other = make_store(db, name="Other")
    credit_payment(db, other, make_payment(db, other, amount=77700))
    db.commit()
    login_as(client, user)
    html = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)
    assert "$1,044.00" in html  # all-time USD revenue
    assert re.search(r"Payments</span>\s*<span class=\"stat-value\">4<", html)
    assert re.search(r"Conversions</span>\s*<span class=\"stat-value\">2<", html)
    assert "25.0 %" in html and "€8.00" in html
    assert "<svg" in html and 'role="img"' in html
    bars = re.findall(r'data-day="([0-9-]+)" data-amount="(\d+)"', html)
    assert len(bars) == 30
    amounts = [int(a) for _, a in bars]
    assert amounts[-1] == 3000 and amounts[-3] == 1500 and sum(amounts) == 4500
    tallest = re.search(r'height="([0-9.]+)"\s+data-day="[0-9-]+" data-amount="3000"', html)
    assert tallest and float(tallest.group(1)) == 160.0  # $30.00 is a round top: the peak fills the chart
    axis = re.search(r'<ol class="chart-axis" aria-hidden="true">(.*?)</ol>', html, re.S)
    assert axis and re.findall(r"<li>([^<]+)</li>", axis.group(1)) == ["$30.00", "$15.00", "$0.00"]
    assert re.search(r"<title>\w{3} \d\d \w{3}: \$15.00</title>", html)  # each day's figure on hover
    figures = re.search(r'<details class="chart-figures">(.*?)</details>', html, re.S)
    assert figures and figures.group(1).count("<tr>") == 3  # a header and the two days with payments
    assert "$45.00 in the last 30 days" in html


def test_the_chart_axis_rounds_up_to_a_readable_top(client, db, user, store):
    credit_payment(db, store, make_payment(db, store, amount=2840))
    db.commit()
    login_as(client, user)
    html = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)
    axis = re.search(r'<ol class="chart-axis" aria-hidden="true">(.*?)</ol>', html, re.S)
    assert axis and re.findall(r"<li>([^<]+)</li>", axis.group(1)) == ["$30.00", "$15.00", "$0.00"]
    bar = re.search(r'height="([0-9.]+)"\s+data-day="[0-9-]+" data-amount="2840"', html)
    assert bar and float(bar.group(1)) == round(2840 / 3000 * 160, 1)


def test_overview_with_nothing_yet(client, db, user, store):
    login_as(client, user)
    html = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)
    assert "$0.00" in html and "0.0 %" in html and "No payments yet" in html
    assert html.count('data-amount="0"') == 30
    axis = re.search(r'<ol class="chart-axis" aria-hidden="true">(.*?)</ol>', html, re.S)
    assert axis and re.findall(r"<li>([^<]+)</li>", axis.group(1)) == ["$0.00"]
    assert "chart-figures" not in html


def test_overview_counts_refunds_and_payouts_in_the_store_currency(client, db, user, store):
    payment = make_payment(db, store, amount=5000)
    make_refund(db, payment, amount=1200)
    make_refund(db, payment, amount=300)
    make_refund(db, make_payment(db, store, amount=900, currency="EUR"), amount=900)  # another currency: not summed in
    make_payout(db, store, amount=2000)
    make_payout(db, store, amount=700, status=PayoutStatus.REQUESTED)  # on its way: counted
    make_payout(db, store, amount=9999, status=PayoutStatus.FAILED)  # reversed: not counted
    db.commit()
    login_as(client, user)
    html = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)
    assert re.search(r"Refunded</span>\s*<span class=\"stat-value\">\$15.00<", html)
    assert re.search(r"Paid out</span>\s*<span class=\"stat-value\">\$27.00<", html)


def test_overview_shows_mrr_per_currency_active_subscriptions_and_churn(client, db, user, store):
    old = utcnow() - timedelta(days=90)
    make_subscription(db, store, amount=1000, started_at=old)
    make_subscription(db, store, amount=12000, interval="year", status="past_due", started_at=old)
    make_subscription(db, store, amount=2000, currency="EUR", interval="week", interval_count=2)
    make_subscription(db, store, amount=5000, status="trialing", started_at=old)
    make_subscription(db, store, status="canceled", started_at=old, canceled_at=utcnow() - timedelta(days=4))
    db.commit()
    login_as(client, user)

    html = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)

    assert re.search(r"MRR</span>\s*<span class=\"stat-value\">\$20.00<", html)
    assert re.search(r"MRR</span>\s*<span class=\"stat-value\">€43.33<", html)  # 2000 × 52 / 24
    assert re.search(r"Active subscriptions</span>\s*<span class=\"stat-value\">3<", html)
    assert re.search(r"Trialing</span>\s*<span class=\"stat-value\">1<", html)
    assert re.search(r"Churn, last 30 days</span>\s*<span class=\"stat-value\">1 of 4 \(25.0 %\)<", html)


def test_overview_without_subscriptions_shows_no_subscription_figures(client, db, user, store):
    login_as(client, user)

    html = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)

    assert "MRR" not in html and 'id="subscription-numbers"' not in html


def test_churn_without_live_subscriptions_a_month_ago_is_a_dash(client, db, user, store):
    make_subscription(db, store, amount=1000)  # started yesterday
    db.commit()
    login_as(client, user)

    html = client.get(f"/dashboard/stores/{store.id}").get_data(as_text=True)

    assert re.search(r"Churn, last 30 days</span>\s*<span class=\"stat-value\">—<", html)

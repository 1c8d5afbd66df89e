"""The dev mailbox at /dev/mailbox: read queued emails and click their links, outside production."""
from datetime import timedelta

import pytest

from checkie.database import utcnow
from checkie.notifications.models import EmailStatus
from checkie.notifications.services import queue_email
from tests.apps import fresh_app
from tests.factories import make_email


def numbered(n: int, **overrides) -> dict:
    """make_email's overrides for the n-th of a series: its own subject, queued n minutes after the first."""
    return {"to_address": f"person{n}@example.com", "subject": f"Subject number {n:03}", "text_body": f"Body {n}",
            "created_at": utcnow() - timedelta(minutes=100 - n), **overrides}


def test_lists_emails_newest_first_without_login(client, db):
    queue_email(db, to="ada@example.com", template="test_message", subject="Welcome, Ada", name="Ada")
    make_email(db, **numbered(1, subject="Older email", status=EmailStatus.FAILED))
    db.commit()
    response = client.get("/dev/mailbox")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.index("Welcome, Ada") < html.index("Older email")
    assert "ada@example.com" in html and "sent" in html and "failed" in html and "UTC" in html


def test_paginates_fifty_at_a_time(client, db):
    for n in range(1, 61):
        make_email(db, **numbered(n))
    db.commit()
    first = client.get("/dev/mailbox").get_data(as_text=True)
    assert "Subject number 060" in first and "Subject number 011" in first
    assert "Subject number 010" not in first
    assert 'href="/dev/mailbox?page=2"' in first and "Newer" not in first
    second = client.get("/dev/mailbox?page=2").get_data(as_text=True)
    assert "Subject number 010" in second and "Subject number 001" in second
    assert "Subject number 011" not in second
    assert 'href="/dev/mailbox?page=1"' in second and "Older" not in second


def test_empty_mailbox(client):
    assert "No emails yet" in client.get("/dev/mailbox").get_data(as_text=True)


@pytest.mark.parametrize("page", ["0", "-1"])
def test_bad_page_numbers_are_not_found(client, page):
    assert client.get(f"/dev/mailbox?page={page}").status_code == 404


def test_shows_the_body_with_clickable_links(client, db):
    body = (
        "Hi <b>Ada</b> & co,\n"
        "reset here: https://shop.test/reset?token=abc&next=/x.\n"
        "(or http://127.0.0.1:5000/verify/t0k3n)\n"
        'not a link: javascript:alert(1) "https://evil.test/"><script>x</script>'
    )
    message = make_email(db, **numbered(1, text_body=body))
    db.commit()
    response = client.get(f"/dev/mailbox/{message.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Hi &lt;b&gt;Ada&lt;/b&gt; &amp; co," in html
    assert '<a href="https://shop.test/reset?token=abc&amp;next=/x" rel="noreferrer">https://shop.test/reset?token=abc&amp;next=/x</a>.' in html
    assert '(or <a href="http://127.0.0.1:5000/verify/t0k3n" rel="noreferrer">http://127.0.0.1:5000/verify/t0k3n</a>)' in html
    assert '<a href="https://evil.test/"' in html and "&#34;&gt;&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x</script>" not in html and 'href="javascript' not in html


def test_unknown_email_is_not_found(client):
    assert client.get("/dev/mailbox/999999").status_code == 404


def test_never_reachable_in_production(app, db):
    message = make_email(db, **numbered(1))
    db.commit()
    with fresh_app(app, {"CHECKIE_ENV": "production"}) as production:
        client = production.test_client()
        assert client.get("/dev/mailbox").status_code == 404
        assert client.get(f"/dev/mailbox/{message.id}").status_code == 404
        assert "Subject number" not in client.get(f"/dev/mailbox/{message.id}").get_data(as_text=True)

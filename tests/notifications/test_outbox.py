from checkie.notifications.models import EmailMessage, EmailStatus
from checkie.notifications.services import queue_email


def test_queued_email_is_sent_after_commit(db):
    message = queue_email(db, to="ada@example.com", template="test_message", subject="Hi", name="Ada")
    assert message.status is EmailStatus.PENDING
    db.commit()
    db.expire_all()
    sent = db.get(EmailMessage, message.id)
    assert sent.status is EmailStatus.SENT and sent.attempts == 1
    assert "Hello Ada" in sent.text_body


def test_rolled_back_email_is_never_sent(db):
    queue_email(db, to="ada@example.com", template="test_message", subject="Hi", name="Ada")
    db.rollback()
    assert db.query(EmailMessage).count() == 0


def test_the_emails_of_one_transaction_are_one_insert_and_one_task(db, monkeypatch):
    from checkie.notifications import services

    sent: list[list[int]] = []
    monkeypatch.setattr(services, "send_emails", sent.append)
    first = queue_email(db, to="ada@example.com", template="test_message", subject="One", name="Ada")
    with db.begin_nested():
        second = queue_email(db, to="bob@example.com", template="test_message", subject="Two", name="Bob")
    nested = db.begin_nested()
    queue_email(db, to="eve@example.com", template="test_message", subject="Gone", name="Eve")
    db.flush()
    nested.rollback()  # the savepoint's email is undone, and so is its task
    db.commit()
    assert sent == [[first.id, second.id]]
    assert db.query(EmailMessage).count() == 2


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

"""Store services: slugs, currency, names, updates, deletion, overview numbers."""
import pytest
import sqlalchemy as sa

from checkie import slugs
from checkie.errors import ValidationFailed
from checkie.payments.services import delete_store
from checkie.stores import access, api_keys, members, services
from checkie.stores.models import ApiKey, MemberStatus, Role, Store, StoreMember
from tests.factories import make_user


def field_error(excinfo) -> set[str]:
    return set(excinfo.value.fields)


@pytest.mark.parametrize(
    "name, slug",
    [
        ("Acme Goods", "acme-goods"),
        ("  Café Déjà Vu!  ", "cafe-deja-vu"),
        ("Tom & Jerry's -- Shop", "tom-jerrys-shop"),
        ("日本の店", "store"),
        ("!!!", "store"),
    ],
)
def test_slugify_makes_lowercase_ascii_words_with_hyphens(name, slug):
    assert slugs.slugify(name, services.STORE_SLUGS) == slug


def test_slugify_caps_length_without_a_trailing_hyphen():
    slug = slugs.slugify("a" * 59 + " b" * 10, services.STORE_SLUGS)
    assert len(slug) <= 60 and not slug.endswith("-")


def test_create_store_derives_slug_and_makes_the_owner_an_active_owner(db, user):
    store = services.create_store(db, owner=user, name="Acme Goods", currency="eur")
    db.commit()
    assert (store.slug, store.currency, store.owner_id) == ("acme-goods", "EUR", user.id)
    found, role = access.store_for_user(db, user.id, store.id, required=Role.OWNER)
    assert found.id == store.id and role is Role.OWNER
    owner_member = db.scalar(sa.select(StoreMember).where(StoreMember.store_id == store.id))
    assert owner_member.status is MemberStatus.ACTIVE and owner_member.email == user.email


def test_same_name_gets_numbered_slugs(db, user):
    slugs = [services.create_store(db, owner=user, name="Acme", currency="USD").slug for _ in range(3)]
    assert slugs == ["acme", "acme-2", "acme-3"]


def test_numbered_slug_of_a_long_name_stays_within_60_characters(db, user):
    name = "x" * 80
    first = services.create_store(db, owner=user, name=name, currency="USD")
    second = services.create_store(db, owner=user, name=name, currency="USD")
    assert first.slug == "x" * 60
    assert second.slug == "x" * 58 + "-2"


def test_reserved_words_are_never_generated_slugs(db, user):
    assert services.create_store(db, owner=user, name="S", currency="USD").slug == "s-2"


def test_explicit_slug_is_used_and_lower_cased(db, user):
    assert services.create_store(db, owner=user, name="Acme", currency="USD", slug="My-Shop").slug == "my-shop"


@pytest.mark.parametrize("slug", ["has space", "-leading", "trailing-", "dou--ble", "ünï", "x" * 61, "api", "s"])
def test_invalid_or_reserved_explicit_slug_is_refused_on_slug(db, user, slug):
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_store(db, owner=user, name="Acme", currency="USD", slug=slug)
    assert field_error(excinfo) == {"slug"}


def test_taken_explicit_slug_is_refused_on_slug(db, user, store):
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_store(db, owner=user, name="Other", currency="USD", slug=store.slug)
    assert field_error(excinfo) == {"slug"}
    assert excinfo.value.fields["slug"] == ["This address is already taken."]


@pytest.mark.parametrize("currency", ["XYZ", "", "US", "usdollar"])
def test_unsupported_currency_is_refused_on_currency(db, user, currency):
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_store(db, owner=user, name="Acme", currency=currency)
    assert field_error(excinfo) == {"currency"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\x00name", "two\nlines"])
def test_bad_names_are_refused_on_name(db, user, name):
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_store(db, owner=user, name=name, currency="USD")
    assert field_error(excinfo) == {"name"}


def test_failed_create_leaves_nothing_behind(db, user):
    with pytest.raises(ValidationFailed):
        services.create_store(db, owner=user, name="Acme", currency="USD", slug="bad slug")
    db.commit()
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 0


def test_update_store_changes_name_slug_and_currency(db, store):
    services.update_store(db, store, name="Acme Two", slug="acme-two", currency="gbp")
    db.commit()
    db.expire_all()
    saved = db.get(Store, store.id)
    assert (saved.name, saved.slug, saved.currency) == ("Acme Two", "acme-two", "GBP")


def test_update_keeps_the_own_slug_and_refuses_another_stores(db, user, store):
    other = services.create_store(db, owner=user, name="Other", currency="USD")
    services.update_store(db, store, slug=store.slug)
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_store(db, store, slug=other.slug)
    assert field_error(excinfo) == {"slug"}


@pytest.mark.parametrize("kwargs, field", [({"currency": "XYZ"}, "currency"), ({"slug": "Not ok"}, "slug"), ({"name": " "}, "name")])
def test_update_refuses_bad_values_and_changes_nothing(db, store, kwargs, field):
    with pytest.raises(ValidationFailed) as excinfo:
        services.update_store(db, store, **{"name": "Renamed", **kwargs})
    assert field_error(excinfo) == {field}
    db.commit()
    db.expire_all()
    assert db.get(Store, store.id).name == "Acme Goods"


def test_delete_store_cascades_members_invitations_and_keys(db, user, store):
    members.invite_member(db, store, email="new@example.com", role="viewer", invited_by=user)
    api_keys.create_api_key(db, store, name="Backend", created_by=user)
    db.commit()
    delete_store(db, store)
    db.commit()
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 0
    assert db.scalar(sa.select(sa.func.count(StoreMember.id))) == 0
    assert db.scalar(sa.select(sa.func.count(ApiKey.id))) == 0


def test_store_to_open_prefers_the_last_store_then_the_first_by_name(db, user):
    zeta = services.create_store(db, owner=user, name="Zeta", currency="USD")
    alpha = services.create_store(db, owner=user, name="Alpha", currency="USD")
    stranger_store = services.create_store(db, owner=make_user(db), name="Elsewhere", currency="USD")
    assert access.store_to_open(db, user.id, zeta.id).id == zeta.id
    assert access.store_to_open(db, user.id, None).id == alpha.id
    assert access.store_to_open(db, user.id, stranger_store.id).id == alpha.id
    assert access.store_to_open(db, make_user(db).id, None) is None


def _blind_first_slug_check(monkeypatch):
    """Simulate another transaction inserting the same slug between our check and our insert:
    the first availability check answers "free" although the slug is taken."""
    real = slugs.is_taken
    calls = []

    def racing(db, kind, slug, **kwargs):
        calls.append(slug)
        return False if len(calls) == 1 else real(db, kind, slug, **kwargs)

    monkeypatch.setattr(slugs, "is_taken", racing)


def test_a_slug_lost_to_a_concurrent_insert_is_retried(db, user, store, monkeypatch):
    _blind_first_slug_check(monkeypatch)
    created = services.create_store(db, owner=user, name="Acme", currency="USD", slug=None)
    db.commit()
    assert created.slug == "acme-2"
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 2


def test_an_explicit_slug_lost_to_a_concurrent_insert_is_a_validation_error(db, user, store, monkeypatch):
    _blind_first_slug_check(monkeypatch)
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_store(db, owner=user, name="Other", currency="USD", slug="acme")
    assert field_error(excinfo) == {"slug"}
    db.commit()  # the transaction is still usable: only the savepoint was rolled back
    assert db.scalar(sa.select(sa.func.count(Store.id))) == 1

"""Building blocks shared by the platforms' fixture generators: seeds, the shop, its customers and products.

Everything is derived from one integer seed, never from global randomness or the clock, so the
same settings give the same orders on any machine (with the same Faker version). Faker is slow
(about half a millisecond per customer), so each run draws a fixed pool of customers and products
from it once; every order then picks from the pools with its own `random.Random`, seeded from
(seed, platform, order index). An order therefore does not depend on how many orders are made:
the first 25 orders of a 1,000-order run are the 25 orders of a 25-order run.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property

from babel import Locale, UnknownLocaleError
from babel.numbers import get_territory_currencies, list_currencies
from faker import Faker
from faker.config import AVAILABLE_LOCALES

from mockserver.money import ZERO, minor_unit, quantum, round_money

# The Faker release the committed fixtures were made with (`scripts/regenerate-fixtures`); the test
# extra pins it, so the byte-identity tests hold, while the run-time dependency accepts a range.
# Another release draws other names and addresses from the same seed: `fixtures generate` says so.
FIXTURES_FAKER_VERSION = "40.54.0"
CUSTOMER_POOL = 400
PRODUCT_POOL = 240
ORDER_WINDOW_START = datetime(2023, 1, 2, 14, 0, tzinfo=UTC)
ORDER_WINDOW = timedelta(days=3 * 365)
MINUTES_BETWEEN_ORDERS = 11  # orders of one run are spread over time, newest last


# -- seeds ---------------------------------------------------------------------------------


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit seed for one purpose (a platform, an order, the catalog), stable across machines."""
    text = "/".join(str(part) for part in (seed, *parts)).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def order_random(seed: int, platform: str, index: int) -> random.Random:
    """The random source of order number `index` (1-based) of a platform."""
    return random.Random(derive_seed(seed, platform, "order", index))


# -- settings ---------------------------------------------------------------------------------


class SettingsError(ValueError):
    """A generator setting that cannot be honoured (unknown locale or currency)."""


@dataclass(frozen=True)
class GeneratorSettings:
    """What a generation run is asked for; each platform generator reads only these."""

    seed: int = 1
    locale: str = "en_US"
    currencies: tuple[str, ...] = ("USD",)

    def __post_init__(self) -> None:
        if self.locale not in AVAILABLE_LOCALES:
            raise SettingsError(f"unknown locale {self.locale!r} (Faker knows e.g. en_US, de_DE, ja_JP, fr_FR)")
        if not self.currencies:
            raise SettingsError("at least one currency is needed")
        known = list_currencies()
        for code in self.currencies:
            if code not in known:
                raise SettingsError(f"unknown currency {code!r} (expected ISO 4217 codes such as USD, EUR, JPY, KWD)")

    @property
    def default_currency(self) -> str:
        return self.currencies[0]


def locale_parts(locale: str) -> tuple[str, str]:
    """(language, territory) of a Faker locale ("en_US" -> ("en", "US")); territory "" when it has none."""
    try:
        parsed = Locale.parse(locale)
        return parsed.language, parsed.territory or ""
    except (ValueError, TypeError, UnknownLocaleError):
        language, _, territory = locale.partition("_")
        return language, territory


def locale_currency(locale: str) -> str:
    """The currency of the locale's territory (en_US -> USD, de_DE -> EUR, ja_JP -> JPY); USD if none."""
    _, territory = locale_parts(locale)
    currencies = get_territory_currencies(territory, tender=True) if territory else []
    return currencies[0] if currencies else "USD"


# -- money in a currency ----------------------------------------------------------------------

# Rough value of one US dollar in each currency, to turn a catalog price into a plausible local price.
USD_RATES: dict[str, Decimal] = {
    "USD": Decimal(1),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "CAD": Decimal("1.36"),
    "AUD": Decimal("1.52"),
    "NZD": Decimal("1.64"),
    "CHF": Decimal("0.88"),
    "SEK": Decimal("10.5"),
    "NOK": Decimal("10.6"),
    "DKK": Decimal("6.9"),
    "PLN": Decimal("4.0"),
    "JPY": Decimal(150),
    "KRW": Decimal(1330),
    "CNY": Decimal("7.2"),
    "INR": Decimal(83),
    "MXN": Decimal(17),
    "BRL": Decimal(5),
    "KWD": Decimal("0.31"),
    "BHD": Decimal("0.377"),
    "OMR": Decimal("0.385"),
    "JOD": Decimal("0.709"),
    "TND": Decimal("3.1"),
    "AED": Decimal("3.67"),
    "SAR": Decimal("3.75"),
}


def usd_rate(currency: str) -> Decimal:
    return USD_RATES.get(currency, Decimal(1))


@cache  # a catalog's few hundred products are priced in each order that holds them
def nice_price(usd: Decimal, currency: str, style: int) -> Decimal:
    """A shelf price in `currency` near `usd` dollars, ending the way shops price things.

    `style` (0..2) picks the ending: .99, .00 or .50 for two decimals; 980 / 1,000 / 1,980 for
    zero decimals; quarter or eighth units for three decimals. Never below one minor unit.
    """
    local = usd * usd_rate(currency)
    places = minor_unit(currency)
    if places == 0:
        step = Decimal(10) if local < 1000 else Decimal(100)
        value = (local / step).to_integral_value(rounding=ROUND_HALF_UP) * step
        if style == 0 and step == 100 and value > step:
            value -= 20  # 1,980 rather than 2,000
        return max(value, Decimal(10))
    if places >= 3:
        eighths = (local * 8).to_integral_value(rounding=ROUND_HALF_UP)
        value = eighths / 8 if style else (local * 4).to_integral_value(rounding=ROUND_HALF_UP) / 4
        return round_money(max(value, Decimal("0.125")), currency)
    whole = local.to_integral_value(rounding=ROUND_HALF_UP)
    if local < 10 or style == 0:
        value = max(whole, Decimal(1)) - Decimal("0.01")
    elif style == 1:
        value = whole
    else:
        value = whole + Decimal("0.50")
    return round_money(value, currency)


def nice_amount(usd: Decimal, currency: str) -> Decimal:
    """A round amount (a fixed discount, a fee) near `usd` dollars: whole units, or tens for JPY."""
    if usd <= 0:
        return ZERO
    local = usd * usd_rate(currency)
    if minor_unit(currency) == 0:
        step = Decimal(10) if local < 1000 else Decimal(100)
        return max(step, (local / step).to_integral_value(rounding=ROUND_HALF_UP) * step)
    if minor_unit(currency) >= 3:
        return round_money(max(Decimal("0.250"), (local * 4).to_integral_value(rounding=ROUND_HALF_UP) / 4), currency)
    return round_money(max(Decimal(1), local.to_integral_value(rounding=ROUND_HALF_UP)), currency)


def convert(amount: Decimal, from_currency: str, to_currency: str) -> Decimal:
    """An amount at the table's rate, rounded to the target currency (for presentment money)."""
    if from_currency == to_currency:
        return amount
    return round_money(amount * usd_rate(to_currency) / usd_rate(from_currency), to_currency)


def money_text(amount: Decimal, currency: str) -> str:
    """`amount` with exactly the currency's decimals, as Shopify writes money ("9.99", "500", "1.250")."""
    return str((amount + 0).quantize(quantum(currency), ROUND_HALF_UP))


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    return round_money(amount * percent / 100, currency)


# -- the shop's clock -------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopZone:
    """A shop's time zone as a standard offset and a daylight-saving rule ("us", "eu" or none).

    The rules are written out here rather than read from the system's tz database, so that the
    generated timestamps are the same on every machine.
    """

    name: str
    standard_minutes: int
    dst: str | None = None

    def zone_at(self, moment: datetime) -> timezone:
        """The shop's offset at `moment`, as a fixed-offset zone (an order stamps some five moments,
        so the zones are made once)."""
        minutes = self.standard_minutes
        if self.dst is not None:
            start, end = _summer_time(self.dst, minutes, moment.year)
            if start <= moment < end:
                minutes += 60
        return _fixed_zone(minutes)

    def offset(self, moment: datetime) -> timedelta:
        return self.zone_at(moment).utcoffset(None)

    def local(self, moment: datetime) -> datetime:
        """`moment` (aware) as wall-clock time in the shop, with its offset."""
        return moment.astimezone(self.zone_at(moment))

    def stamp(self, moment: datetime) -> str:
        """ISO 8601 with the shop's offset, to the second: `2023-05-31T07:46:12-07:00`."""
        return self.local(moment).isoformat("T", "seconds")  # by position: keywords cost a third more


@cache
def _fixed_zone(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def _nth_sunday(year: int, month: int, nth: int) -> datetime:
    first = datetime(year, month, 1, tzinfo=UTC)
    first_sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + timedelta(weeks=nth - 1)


def _last_sunday(year: int, month: int) -> datetime:
    last = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@cache
def _summer_time(rule: str, standard_minutes: int, year: int) -> tuple[datetime, datetime]:
    """The UTC instants daylight-saving time starts and ends in `year`.

    US: 2 a.m. local standard time on the second Sunday of March to 2 a.m. local daylight time
    on the first Sunday of November. EU: 01:00 UTC on the last Sundays of March and October.
    """
    if rule == "us":
        standard = timedelta(minutes=standard_minutes)
        start = _nth_sunday(year, 3, 2) + timedelta(hours=2) - standard
        end = _nth_sunday(year, 11, 1) + timedelta(hours=1) - standard
        return start, end
    return _last_sunday(year, 3) + timedelta(hours=1), _last_sunday(year, 10) + timedelta(hours=1)


SHOP_ZONES: dict[str, list[ShopZone]] = {
    "USD": [
        ShopZone("America/New_York", -300, "us"),
        ShopZone("America/Chicago", -360, "us"),
        ShopZone("America/Denver", -420, "us"),
        ShopZone("America/Los_Angeles", -480, "us"),
    ],
    "CAD": [ShopZone("America/Toronto", -300, "us"), ShopZone("America/Vancouver", -480, "us")],
    "EUR": [
        ShopZone("Europe/Berlin", 60, "eu"),
        ShopZone("Europe/Paris", 60, "eu"),
        ShopZone("Europe/Madrid", 60, "eu"),
    ],
    "GBP": [ShopZone("Europe/London", 0, "eu")],
    "CHF": [ShopZone("Europe/Zurich", 60, "eu")],
    "SEK": [ShopZone("Europe/Stockholm", 60, "eu")],
    "JPY": [ShopZone("Asia/Tokyo", 540)],
    "KRW": [ShopZone("Asia/Seoul", 540)],
    "KWD": [ShopZone("Asia/Kuwait", 180)],
    "BHD": [ShopZone("Asia/Bahrain", 180)],
    "AED": [ShopZone("Asia/Dubai", 240)],
    "AUD": [ShopZone("Australia/Brisbane", 600)],
    "INR": [ShopZone("Asia/Kolkata", 330)],
}


def order_moment(seed: int, platform: str, index: int, rng: random.Random) -> datetime:
    """When order `index` was placed (UTC): runs start on a seed-chosen day and move forward in time."""
    start = ORDER_WINDOW_START + timedelta(days=derive_seed(seed, platform, "start") % 365)
    step = timedelta(minutes=MINUTES_BETWEEN_ORDERS * index)
    within = timedelta(seconds=step.total_seconds() % ORDER_WINDOW.total_seconds())
    return start + within + timedelta(seconds=rng.randrange(MINUTES_BETWEEN_ORDERS * 60))


# -- the catalog: customers and products -------------------------------------------------------


@dataclass(frozen=True)
class Address:
    first_name: str
    last_name: str
    company: str | None
    address1: str
    address2: str
    city: str
    province: str
    province_code: str
    zip: str
    country: str
    country_code: str
    phone: str


@dataclass(frozen=True)
class Customer:
    number: int  # position in the pool, the base of platform ids
    first_name: str
    last_name: str
    email: str
    phone: str
    address: Address
    accepts_marketing: bool
    since: timedelta  # how long before an order the customer account was created


@dataclass(frozen=True)
class Variant:
    number: int
    title: str
    sku: str


@dataclass(frozen=True)
class Product:
    number: int
    title: str
    vendor: str
    category: str
    usd: Decimal  # catalog price in US dollars, turned into each currency with `nice_price`
    style: int
    grams: int
    variants: tuple[Variant, ...]
    taxable: bool = True

    def price(self, currency: str) -> Decimal:
        return nice_price(self.usd, currency, self.style)


@dataclass(frozen=True)
class Category:
    name: str
    code: str
    nouns: tuple[tuple[str, int, int], ...]  # (product noun, lowest and highest US-dollar price)
    grams_range: tuple[int, int]
    options: tuple[tuple[str, ...], ...]  # variant option lists (sizes); colours come from Faker


CATEGORIES = (
    Category(
        "apparel",
        "AP",
        (
            ("T-Shirt", 18, 45),
            ("Hoodie", 45, 95),
            ("Rain Jacket", 90, 240),
            ("Merino Socks", 12, 28),
            ("Linen Shirt", 55, 120),
            ("Chino Trousers", 50, 110),
            ("Beanie", 15, 40),
        ),
        (80, 900),
        (("XS", "S", "M", "L", "XL"),),
    ),
    Category(
        "home",
        "HM",
        (
            ("Ceramic Mug", 12, 32),
            ("Throw Blanket", 45, 160),
            ("Scented Candle", 14, 48),
            ("Cutting Board", 25, 90),
            ("Table Lamp", 60, 220),
            ("Linen Napkins", 20, 55),
        ),
        (150, 2500),
        (("Small", "Large"), ()),
    ),
    Category(
        "outdoors",
        "OD",
        (
            ("Water Bottle", 15, 45),
            ("Daypack", 45, 150),
            ("Camping Lantern", 20, 70),
            ("Trekking Poles", 40, 160),
            ("Sleeping Pad", 50, 190),
        ),
        (200, 1800),
        (("20 L", "30 L"), ()),
    ),
    Category(
        "beauty",
        "BT",
        (("Face Serum", 22, 85), ("Hand Cream", 8, 30), ("Lip Balm Set", 6, 18), ("Body Wash", 9, 26)),
        (40, 400),
        (("30 ml", "50 ml", "100 ml"),),
    ),
    Category(
        "electronics",
        "EL",
        (
            ("USB-C Cable", 9, 29),
            ("Wireless Charger", 25, 70),
            ("Phone Case", 15, 55),
            ("Bluetooth Speaker", 40, 250),
            ("Earbuds", 30, 230),
        ),
        (30, 700),
        ((),),
    ),
    Category(
        "pantry",
        "PN",
        (
            ("Single-Origin Coffee", 14, 32),
            ("Loose Leaf Tea", 9, 28),
            ("Dark Chocolate Bar", 4, 12),
            ("Olive Oil", 15, 45),
            ("Hot Sauce Trio", 18, 36),
        ),
        (100, 1200),
        (("250 g", "500 g", "1 kg"), ()),
    ),
)
ADJECTIVES = ("Classic", "Everyday", "Heritage", "Organic", "Travel", "Studio", "Premium", "Essential", "Field")


@dataclass(frozen=True)
class Catalog:
    """The shop's customers and products for one run, drawn from Faker once."""

    locale: str
    country: str
    country_code: str
    language: str
    customers: tuple[Customer, ...]
    products: tuple[Product, ...]
    vendors: tuple[str, ...]
    shop_name: str
    seed: int
    platform: str

    def zone(self, currency: str) -> ShopZone:
        """The time zone of the shop that sells in `currency`."""
        return shop_zone(self.seed, self.platform, currency)


@cache
def shop_zone(seed: int, platform: str, currency: str) -> ShopZone:
    options = SHOP_ZONES.get(currency, [ShopZone("UTC", 0)])
    return options[derive_seed(seed, platform, "zone", currency) % len(options)]


def _optional(fake: Faker, name: str) -> str:
    """A Faker field that only some locales have (state abbreviations, secondary addresses)."""
    try:
        return str(getattr(fake, name)())
    except AttributeError:
        return ""


def _address_provider(fake: Faker) -> object | None:
    return next((p for p in fake.providers if ".address" in type(p).__module__), None)


def _province(fake: Faker) -> tuple[str, str]:
    """A state or province with its matching code where the locale lists both (US, CA, AU), else a name only.

    Japan: Faker lists the prefectures in the order of JIS X 0401, whose numbers are the
    ISO 3166-2 codes Shopify writes (`JP-13` is Tokyo).
    """
    provider = _address_provider(fake)
    prefectures = list(getattr(provider, "prefectures", ()) or ())
    if len(prefectures) == 47 and type(provider).__module__.endswith("ja_JP"):
        index = fake.random.randrange(len(prefectures))
        return prefectures[index], f"JP-{index + 1:02d}"
    for names_attribute, codes_attribute in (("states", "states_abbr"), ("provinces", "provinces_abbr")):
        names = list(getattr(provider, names_attribute, ()) or ())
        codes = list(getattr(provider, codes_attribute, ()) or ())
        if len(codes) == len(names) + 1 and "DC" in codes:
            codes.remove("DC")  # en_US lists the District of Columbia among the codes only
        if names and len(names) == len(codes) and all(isinstance(name, str) for name in names):
            index = fake.random.randrange(len(names))
            return names[index], codes[index]
    return _optional(fake, "administrative_unit"), ""


def _street(fake: Faker) -> tuple[str, str]:
    """Address lines 1 and 2 in the locale's own format, from Faker's data for it.

    Most locales format a street address themselves (`Viola-Steinberg-Platz 2`, `46, rue Julien
    Roy`). Faker's ja_JP has no street format (its `street_address` falls back to the English
    `743 青木 Street`); a Japanese address is the town with its chome, ban and go numbers
    (`芝浦14丁目4番16号`), the building on the second line, which Faker's ja_JP parts give.
    """
    provider = _address_provider(fake)
    if all(callable(getattr(provider, part, None)) for part in ("town", "chome", "ban", "gou", "building_name")):
        line1 = f"{fake.town()}{fake.chome()}{fake.ban()}{fake.gou()}"  # type: ignore[attr-defined]
        has_building = fake.random.random() < 0.5
        line2 = f"{fake.building_name()}{fake.building_number()}" if has_building else ""  # type: ignore[attr-defined]
        return line1, line2
    street = str(fake.street_address()).split("\n")
    address1, address2 = (street[-1], street[0]) if len(street) > 1 else (street[0], "")
    if not address2 and fake.random.random() < 0.2:
        address2 = _optional(fake, "secondary_address")
    return address1, address2


def _address(fake: Faker, first: str, last: str, country: str, country_code: str, company: bool) -> Address:
    address1, address2 = _street(fake)
    province, province_code = _province(fake)
    return Address(
        first_name=first,
        last_name=last,
        company=str(fake.company()) if company else None,
        address1=address1,
        address2=address2,
        city=str(fake.city()),
        province=province,
        province_code=province_code,
        zip=str(fake.postcode()),
        country=country,
        country_code=country_code,
        phone=_optional(fake, "phone_number"),
    )


@cache
def build_catalog(seed: int, locale: str, platform: str) -> Catalog:
    """Customers, products and vendors for a run; the same arguments always give the same catalog."""
    fake = Faker(locale, use_weighting=False)
    fake.seed_instance(derive_seed(seed, platform, "faker", locale))
    rng = random.Random(derive_seed(seed, platform, "catalog"))
    language, territory = locale_parts(locale)
    country_code = territory or "US"
    country = Locale("en").territories.get(country_code, country_code)
    vendors = tuple(str(fake.company()) for _ in range(12))
    customers = []
    for number in range(CUSTOMER_POOL):
        first, last = str(fake.first_name()), str(fake.last_name())
        address = _address(fake, first, last, country, country_code, rng.random() < 0.1)
        customers.append(
            Customer(
                number=number,
                first_name=first,
                last_name=last,
                email=str(fake.email()),
                phone=address.phone,
                address=address,
                accepts_marketing=rng.random() < 0.35,
                since=timedelta(days=rng.randrange(1, 900), seconds=rng.randrange(86400)),
            )
        )
    products = []
    for number in range(PRODUCT_POOL):
        category = CATEGORIES[number % len(CATEGORIES)]
        noun, low, high = category.nouns[rng.randrange(len(category.nouns))]
        title = f"{ADJECTIVES[rng.randrange(len(ADJECTIVES))]} {noun}"
        vendor = vendors[rng.randrange(len(vendors))]
        code = "".join(word[0] for word in vendor.replace("-", " ").split() if word[:1].isalpha())[:3].upper() or "RM"
        colours = [str(fake.color_name()) for _ in range(rng.randrange(1, 4))]
        sizes = category.options[rng.randrange(len(category.options))]
        names = [f"{colour} / {size}" for colour in colours for size in sizes] if sizes else colours
        names = names[: rng.randrange(1, 7)]
        sku_base = f"{code}-{category.code}{number:03d}"
        variants = tuple(
            Variant(number=position, title=name, sku=f"{sku_base}-{position + 1:02d}")
            for position, name in enumerate(names)
        )
        usd = Decimal(rng.randrange(low * 100, high * 100)) / 100
        products.append(
            Product(
                number=number,
                title=title,
                vendor=vendor,
                category=category.name,
                usd=usd,
                style=rng.randrange(3),
                grams=rng.randrange(*category.grams_range),
                variants=variants,
                taxable=category.name != "pantry" or rng.random() < 0.5,
            )
        )
    return Catalog(
        locale=locale,
        country=country,
        country_code=country_code,
        language=language,
        customers=tuple(customers),
        products=tuple(products),
        vendors=vendors,
        shop_name=f"{fake.company()}",
        seed=seed,
        platform=platform,
    )


def pick_currency(rng: random.Random, currencies: tuple[str, ...]) -> str:
    """The shop's main currency (the first) for about half the orders, the others share the rest."""
    if len(currencies) == 1 or rng.random() < 0.45:
        return currencies[0]
    return currencies[1 + rng.randrange(len(currencies) - 1)]


def other_currency(rng: random.Random, currency: str, currencies: tuple[str, ...]) -> str:
    """Another currency for an order in a non-default currency: one of the run's, else a common one."""
    others = [code for code in currencies if code != currency]
    if not others:
        others = [code for code in ("EUR", "USD", "GBP", "CAD") if code != currency]
    return others[rng.randrange(len(others))]


def weighted(rng: random.Random, weights: tuple[int, ...]) -> int:
    """An index drawn with the given integer weights (cheaper than `random.choices` for one draw)."""
    point = rng.randrange(sum(weights))
    for index, weight in enumerate(weights):
        point -= weight
        if point < 0:
            return index
    return len(weights) - 1


LINE_COUNT_WEIGHTS = (30, 24, 16, 10, 7, 5, 4, 4)  # 1..8 lines
QUANTITY_WEIGHTS = (56, 22, 11, 6, 5)  # 1..5 units


# -- taxes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxComponent:
    title: str
    rate: Decimal


@dataclass(frozen=True)
class TaxRegime:
    """Where the shop collects tax: its components (several lines on one item) and whether shipping is taxed."""

    name: str
    components: tuple[TaxComponent, ...]
    shipping_taxed: bool

    @cached_property  # read for every tax line of every order
    def rate(self) -> Decimal:
        return sum((component.rate for component in self.components), ZERO)


def _regime(name: str, shipping_taxed: bool, *components: tuple[str, str]) -> TaxRegime:
    return TaxRegime(name, tuple(TaxComponent(title, Decimal(rate)) for title, rate in components), shipping_taxed)


TAX_REGIMES: dict[str, tuple[TaxRegime, ...]] = {
    "USD": (
        _regime(
            "NY",
            True,
            ("NY State Tax", "0.04"),
            ("New York City Tax", "0.045"),
            ("Metropolitan Commuter Transportation District", "0.00375"),
        ),
        _regime("CA", False, ("CA State Tax", "0.0725"), ("Los Angeles County Tax", "0.0225")),
        _regime("TX", True, ("TX State Tax", "0.0625"), ("Austin City Tax", "0.02")),
        _regime("WA", True, ("WA State Tax", "0.065"), ("Seattle City Tax", "0.0385")),
        _regime("MA", False, ("MA State Tax", "0.0625")),
        _regime("OR", False),
    ),
    "CAD": (
        _regime("ON", True, ("HST", "0.13")),
        _regime("BC", True, ("GST", "0.05"), ("PST", "0.07")),
        _regime("QC", True, ("GST", "0.05"), ("QST", "0.09975")),
    ),
    "EUR": (
        _regime("DE", True, ("MwSt.", "0.19")),
        _regime("FR", True, ("TVA", "0.20")),
        _regime("NL", True, ("BTW", "0.21")),
    ),
    "GBP": (_regime("GB", True, ("VAT", "0.20")),),
    "JPY": (_regime("JP", True, ("消費税", "0.10")),),
    "KWD": (_regime("KW", False), _regime("GCC", True, ("VAT", "0.05"))),
    "AUD": (_regime("AU", True, ("GST", "0.10")),),
}
DEFAULT_REGIMES = (_regime("VAT", True, ("VAT", "0.15")),)

# The shop's own country's tax, where the generator knows it: a de_DE shop selling in euros
# charges German MwSt (19 %), not a tax drawn from every euro country. Standard rates as of 2024
# (neither Faker nor babel carries tax rates); a country missing here falls back to its currency.
COUNTRY_REGIMES: dict[str, tuple[TaxRegime, ...]] = {
    "US": TAX_REGIMES["USD"],
    "CA": TAX_REGIMES["CAD"],
    "DE": (_regime("DE", True, ("MwSt.", "0.19")),),
    "AT": (_regime("AT", True, ("USt.", "0.20")),),
    "CH": (_regime("CH", True, ("MWST", "0.081")),),
    "FR": (_regime("FR", True, ("TVA", "0.20")),),
    "BE": (_regime("BE", True, ("BTW", "0.21")),),
    "NL": (_regime("NL", True, ("BTW", "0.21")),),
    "IT": (_regime("IT", True, ("IVA", "0.22")),),
    "ES": (_regime("ES", True, ("IVA", "0.21")),),
    "PT": (_regime("PT", True, ("IVA", "0.23")),),
    "IE": (_regime("IE", True, ("VAT", "0.23")),),
    "GB": TAX_REGIMES["GBP"],
    "SE": (_regime("SE", True, ("Moms", "0.25")),),
    "DK": (_regime("DK", True, ("Moms", "0.25")),),
    "NO": (_regime("NO", True, ("MVA", "0.25")),),
    "FI": (_regime("FI", True, ("ALV", "0.24")),),
    "PL": (_regime("PL", True, ("VAT", "0.23")),),
    "JP": TAX_REGIMES["JPY"],
    "KR": (_regime("KR", True, ("부가가치세", "0.10")),),
    "AU": TAX_REGIMES["AUD"],
    "NZ": (_regime("NZ", True, ("GST", "0.15")),),
    "IN": (_regime("IN", True, ("GST", "0.18")),),
    "MX": (_regime("MX", True, ("IVA", "0.16")),),
    "KW": TAX_REGIMES["KWD"],
}
INCLUSIVE_SHARE = {"EUR": 0.8, "GBP": 0.85, "AUD": 0.8, "JPY": 0.5, "CHF": 0.7}  # else 0.2


@cache
def _tender_currencies(country_code: str) -> tuple[str, ...]:
    return tuple(get_territory_currencies(country_code, tender=True))


def pick_regime(rng: random.Random, currency: str, country_code: str = "") -> TaxRegime:
    """The tax of an order: the shop's country's when it sells in that country's currency, else the currency's."""
    regimes = None
    if country_code and currency in _tender_currencies(country_code):
        regimes = COUNTRY_REGIMES.get(country_code)
    if regimes is None:
        regimes = TAX_REGIMES.get(currency, DEFAULT_REGIMES)
    return regimes[rng.randrange(len(regimes))]


def prices_include_tax(rng: random.Random, currency: str) -> bool:
    return rng.random() < INCLUSIVE_SHARE.get(currency, 0.2)


def tax_of(net: Decimal, rate: Decimal, all_rates: Decimal, included: bool, currency: str) -> Decimal:
    """The tax at `rate` on a net amount; with prices including tax (at `all_rates` in total), the share inside."""
    if included:
        return round_money(net * rate / (1 + all_rates), currency)
    return round_money(net * rate, currency)


# -- ids ----------------------------------------------------------------------------------------


class IdBlocks:
    """Ids inside one order's private block, one range per kind, so that no two orders share an id.

    `next_id(name, start)` has the signature the engines ask for; `start` (the engines' idea of a
    fresh id) is ignored so that ids stay inside the block and never meet the ids the server hands
    out later, which start above every block.
    """

    def __init__(self, base: int, layout: dict[str, tuple[int, int]]):
        self.base = base
        self.layout = layout  # kind -> (offset in the block, how many ids of that kind fit)
        self.used: dict[str, int] = {}

    def next_id(self, name: str, start: int = 1) -> int:
        if name not in self.layout:
            raise KeyError(f"the engine asked for an id of kind {name!r}, which the generator's id layout lacks")
        offset, capacity = self.layout[name]
        taken = self.used.get(name, 0)
        if taken >= capacity:
            raise OverflowError(f"more than {capacity} ids of kind {name} in one order")
        self.used[name] = taken + 1
        return self.base + offset + taken

    def __call__(self, name: str, start: int = 1) -> int:
        return self.next_id(name, start)

"""A realistic recent quarter at Iran's customs offices, loaded through the real flows.

``load_demo`` opens the demo accounts (administrator, national supervisor, an officer and a
head for every agency that answers inquiries, about thirty traders and customs brokers in
many provinces), then replays ``days`` of history up to now: declarations filed in Tehran
working hours at the busy offices (Shahid Rajaee first), goods with real HS 2022 codes and
plausible origins, values and currencies, and each agency answering at its own pace. Some
agencies are quick, some slow and often late; some ask the trader for more, who replies; a
few declarations are refused or cancelled. Answers that would fall after now are not given,
so every agency has an open queue, with overdue inquiries where it is slow.

Every step goes through the flows the API uses (``file_declaration``, ``decide``, ``reply``,
``cancel_declaration``), each in its own transaction with a manual clock set to the step's
time, and all steps run in one global time order, so deadlines, statuses and the hash-chained
event log read exactly as if the quarter had happened. A user who acts on a day is counted as
having signed in that day (``dashboard.signins``), for the dashboard's adoption figures.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from typing import Literal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.agencies.models import Agency
from panjereh.audit.models import Event
from panjereh.auth.models import Role, User
from panjereh.auth.passwords import hash_password
from panjereh.auth.principal import Principal
from panjereh.auth.service import create_user, principal_of
from panjereh.clock import ManualClock, SystemClock
from panjereh.config import get_settings
from panjereh.dashboard import periods, signins
from panjereh.db import make_session_factory, transaction
from panjereh.declarations.flows import cancel_declaration, file_declaration
from panjereh.declarations.models import (
    OPEN_DECLARATION_STATUSES,
    Declaration,
    DeclarationStatus,
)
from panjereh.declarations.schemas import DeclarationIn, ItemIn
from panjereh.escalation import sweep
from panjereh.inquiries.flows import decide, reply
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.schemas import DecisionIn, ReplyIn
from panjereh.inquiries.states import OPEN_STATES, InquiryState
from panjereh.reference import country_codes, customs_offices, hs_code_problem, provinces
from panjereh.rules import service as rules
from panjereh.sla.calendar import (
    DEFAULT_CLOSES,
    DEFAULT_OPENS,
    TEHRAN,
    BusinessCalendar,
    iran_calendar,
    weekend_from_codes,
)

DEMO_PASSWORD = "panjereh-demo-1405"  # noqa: S105 - published on purpose; refused in production
"""The one password of every demo account (printed in the summary and the README)."""

Kind = Literal["import", "export", "transit"]
Outcome = Literal["approve", "reject", "request_info"]

# Business time is counted in minutes of working hours; one business day is this many.
_DAY_MINUTES = (DEFAULT_CLOSES.hour * 60 + DEFAULT_CLOSES.minute) - (
    DEFAULT_OPENS.hour * 60 + DEFAULT_OPENS.minute
)


class DemoRefused(RuntimeError):
    """Demo accounts share a published password, so a production store refuses them."""


# -- goods ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Good:
    """A goods line as traders actually declare it: code, words, origins, unit and prices."""

    hs_code: str
    description: str
    origins: tuple[tuple[str, float], ...]
    unit: str
    unit_price_usd: tuple[float, float]
    line_value_usd: tuple[float, float]
    weight: float


@dataclass(frozen=True, slots=True)
class Lane:
    """A trade lane: goods that travel together, and how many lines a filing usually has."""

    goods: tuple[Good, ...]
    max_items: int = 6


def _weighted(spec: str) -> tuple[tuple[str, float], ...]:
    """``"CN:5 VN:2"`` as ``(("CN", 5.0), ("VN", 2.0))``: the data below stays readable."""
    pairs = (part.split(":") for part in spec.split())
    return tuple((key, float(weight)) for key, weight in pairs)


def _good(
    hs_code: str,
    description: str,
    origins: str,
    unit: str,
    price: tuple[float, float],
    value: tuple[float, float],
    weight: float = 1.0,
) -> Good:
    return Good(hs_code, description, _weighted(origins), unit, price, value, weight)


_IR = "IR:1"  # exports are of Iranian origin

# fmt: off
LANES: dict[str, Lane] = {
    # -- imports
    "food": Lane(
        (
            _good("100630", "Basmati rice, 1121 sella, 40 kg bags", "IN:6 PK:2 TH:1", "KGM",
                  (0.9, 1.4), (40e3, 900e3), 3),
            _good("090230", "Black tea, bulk packings", "IN:4 LK:4 KE:1", "KGM",
                  (2.5, 5.0), (30e3, 400e3), 2),
            _good("170199", "White refined sugar, ICUMSA 45", "BR:5 IN:3 AE:2", "KGM",
                  (0.45, 0.65), (100e3, 2e6)),
            _good("080390", "Fresh bananas, Cavendish", "EC:5 PH:3 IN:2", "KGM",
                  (0.6, 1.0), (20e3, 200e3)),
            _good("151219", "Refined sunflower oil", "RU:6 UA:2 KZ:2", "KGM",
                  (1.0, 1.4), (100e3, 1.5e6), 1.5),
            _good("151190", "Refined palm olein (RBD)", "MY:6 ID:4", "KGM",
                  (0.8, 1.1), (100e3, 2e6), 1.5),
            _good("020230", "Frozen boneless beef, forequarter cuts", "BR:6 RU:2", "KGM",
                  (4.0, 6.5), (100e3, 1.5e6)),
            _good("020714", "Frozen chicken leg quarters", "BR:5 TR:3 RU:2", "KGM",
                  (1.5, 2.5), (50e3, 600e3)),
            _good("160414", "Canned tuna in vegetable oil", "TH:6 VN:2", "KGM",
                  (3.0, 6.0), (20e3, 250e3), 0.6),
            _good("090111", "Green coffee beans, Arabica", "BR:4 CO:2 ET:2 VN:2", "KGM",
                  (3.0, 6.0), (20e3, 300e3), 0.6),
            _good("180632", "Filled chocolate bars", "TR:5 DE:2 AE:2", "KGM",
                  (5.0, 9.0), (15e3, 200e3), 0.8),
            _good("190219", "Durum wheat pasta", "TR:5 IT:3", "KGM",
                  (0.9, 1.6), (15e3, 150e3), 0.6),
            _good("040221", "Whole milk powder, 26% fat, 25 kg bags", "NZ:5 NL:2 DE:2", "KGM",
                  (3.0, 4.5), (50e3, 800e3), 0.8),
            _good("210690", "Food supplement preparations", "DE:3 IT:2 CN:2 TR:2", "KGM",
                  (8.0, 30.0), (10e3, 150e3), 0.5),
        )
    ),
    "feed": Lane(
        (
            _good("100590", "Yellow feed corn, bulk", "BR:6 RU:2 UA:2 AR:2", "TNE",
                  (230, 290), (500e3, 8e6), 3),
            _good("120190", "Soya beans for crushing, bulk", "BR:7 AR:2 RU:1", "TNE",
                  (420, 520), (500e3, 6e6), 2),
            _good("230400", "Soybean meal, 46% protein", "BR:5 AR:4 IN:1", "TNE",
                  (380, 480), (300e3, 5e6), 2),
            _good("100390", "Feed barley, bulk", "RU:5 KZ:3 DE:1 UA:1", "TNE",
                  (200, 260), (300e3, 5e6), 1.5),
            _good("100199", "Milling wheat, bulk", "RU:7 KZ:3", "TNE",
                  (220, 290), (500e3, 8e6), 1.5),
            _good("230990", "Livestock feed premix (vitamins and minerals)",
                  "NL:3 DE:3 FR:2 TR:2 CN:1", "KGM", (1.5, 4.0), (20e3, 300e3)),
            _good("230120", "Fish meal, 65% protein", "OM:5 PE:3", "KGM",
                  (1.4, 1.9), (50e3, 600e3), 0.6),
        ),
        max_items=2,
    ),
    "livestock": Lane(
        (
            _good("010511", "Day-old broiler parent-stock chicks", "TR:3 NL:3 DE:2 HU:1",
                  "NAR", (2.0, 6.0), (20e3, 400e3), 2),
            _good("040711", "Fertilised hatching eggs, broiler", "TR:5 NL:2 BR:2 UA:1", "NAR",
                  (0.3, 0.6), (20e3, 300e3), 2),
            _good("010229", "Live cattle for fattening", "BR:6 UY:2 AU:1", "NAR",
                  (900, 1400), (200e3, 3e6)),
            _good("051110", "Bovine semen for artificial insemination", "CA:3 NL:3 DE:2 FR:2",
                  "NAR", (15, 60), (20e3, 300e3), 1.5),
        ),
        max_items=2,
    ),
    "pharma": Lane(
        (
            _good("300490", "Oncology medicines in measured doses", "DE:3 CH:3 FR:2 IN:2 IT:1",
                  "NAR", (20, 400), (30e3, 1.5e6), 3),
            _good("300420", "Antibiotic capsules (cefixime)", "IN:5 CN:2 TR:1", "NAR",
                  (1.5, 6.0), (20e3, 400e3), 2),
            _good("300431", "Insulin glargine pens", "DK:5 DE:3 FR:2", "NAR",
                  (8, 25), (100e3, 2e6), 1.5),
            _good("300215", "Monoclonal antibodies, immunological products",
                  "CH:4 DE:3 FR:2 IE:1", "NAR", (150, 1500), (100e3, 2.5e6)),
            _good("300241", "Vaccines for human medicine", "IN:4 CN:2 RU:2 FR:1", "NAR",
                  (2, 20), (50e3, 1e6)),
            _good("294110", "Amoxicillin trihydrate (active ingredient)", "CN:6 IN:4", "KGM",
                  (25, 45), (50e3, 600e3)),
        )
    ),
    "medical": Lane(
        (
            _good("901890", "Surgical instruments and appliances", "DE:4 CN:3 KR:2 IT:1",
                  "NAR", (50, 2000), (20e3, 400e3), 2),
            _good("901819", "Multi-parameter patient monitors", "CN:5 DE:2 KR:2", "NAR",
                  (800, 6000), (20e3, 500e3), 1.5),
            _good("901812", "Ultrasound scanners", "KR:4 JP:3 DE:2 CN:2", "NAR",
                  (8e3, 60e3), (30e3, 800e3)),
            _good("902214", "Digital radiography (X-ray) systems, medical",
                  "DE:3 NL:2 JP:2 KR:2 CN:2", "NAR", (40e3, 250e3), (50e3, 1.2e6)),
            _good("901839", "IV cannulae and catheters", "CN:4 MY:3 DE:2 IN:1", "NAR",
                  (0.15, 2.0), (10e3, 250e3), 1.5),
            _good("901831", "Disposable syringes", "CN:6 KR:2 IN:2", "NAR",
                  (0.03, 0.12), (10e3, 200e3), 1.5),
            _good("382219", "Diagnostic reagent kits, including radio-labelled assays",
                  "DE:4 CH:2 CN:2 KR:2", "KGM", (50, 400), (10e3, 300e3), 0.6),
            _good("902131", "Artificial hip and knee joints", "DE:3 CH:2 KR:1 CN:1", "NAR",
                  (300, 3000), (20e3, 500e3), 0.8),
        )
    ),
    "isotopes": Lane(
        (
            _good("284443", "Mo-99/Tc-99m generators for nuclear medicine", "RU:4 NL:2 ZA:1",
                  "NAR", (4e3, 12e3), (20e3, 200e3)),
        ),
        max_items=1,
    ),
    "phones": Lane(
        (
            _good("851713", "Smartphones", "CN:5 VN:3 AE:2 KR:1 IN:1", "NAR",
                  (90, 700), (50e3, 3e6), 4),
            _good("851762", "Wi-Fi routers and network switches", "CN:7 TW:1 MY:1", "NAR",
                  (15, 400), (20e3, 500e3), 1.5),
            _good("852589", "CCTV cameras", "CN:9 KR:1", "NAR", (20, 150), (10e3, 200e3)),
        ),
        max_items=3,
    ),
    "electronics": Lane(
        (
            _good("847130", "Laptop computers", "CN:7 AE:2", "NAR", (300, 1200), (30e3, 900e3), 2),
            _good("852872", "LED television sets, 55 inch", "CN:4 KR:2 MY:2 TR:2", "NAR",
                  (180, 600), (50e3, 1.2e6), 2),
            _good("852852", "Computer monitors", "CN:6 KR:2 MY:1", "NAR",
                  (80, 400), (20e3, 400e3)),
            _good("854231", "Microcontrollers and processors", "CN:3 MY:2 TW:2 HK:2 KR:1",
                  "NAR", (0.5, 40), (10e3, 500e3)),
            _good("847330", "Computer parts (motherboards, memory modules)", "CN:6 TW:2 HK:2",
                  "NAR", (20, 200), (10e3, 300e3)),
        )
    ),
    "appliances": Lane(
        (
            _good("841810", "Combined refrigerator-freezers", "TR:4 CN:3 KR:2", "NAR",
                  (250, 900), (50e3, 1e6), 2),
            _good("845011", "Fully automatic washing machines", "TR:4 CN:3 KR:2", "NAR",
                  (200, 600), (40e3, 800e3), 2),
            _good("841510", "Split air conditioners", "CN:7 KR:1 TH:1", "NAR",
                  (250, 700), (50e3, 1.2e6), 2),
            _good("842211", "Household dishwashers", "TR:5 DE:2 CN:2 IT:1", "NAR",
                  (220, 600), (30e3, 500e3)),
            _good("851660", "Gas-electric cookers and ovens", "TR:5 IT:3 CN:2", "NAR",
                  (150, 700), (20e3, 400e3)),
            _good("851650", "Microwave ovens", "CN:8 TR:1 KR:1", "NAR", (40, 150), (15e3, 300e3)),
            _good("841451", "Electric fans", "CN:9 TR:1", "NAR", (8, 40), (10e3, 150e3), 0.6),
            _good("853952", "LED lamps", "CN:9 TR:1", "NAR", (0.4, 3.0), (10e3, 200e3)),
        )
    ),
    "vehicles": Lane(
        (
            _good("870323", "Passenger cars, petrol, 1.5-3.0 litre", "CN:5 KR:2 JP:2 DE:1",
                  "NAR", (12e3, 45e3), (100e3, 3e6), 3),
            _good("870380", "Electric passenger cars", "CN:8 DE:1", "NAR",
                  (18e3, 50e3), (100e3, 2e6)),
            _good("870421", "Light diesel trucks, up to 5 t", "CN:5 TR:2 KR:2 JP:1", "NAR",
                  (15e3, 40e3), (60e3, 1.5e6)),
            _good("870121", "Road tractors for semi-trailers", "CN:4 DE:3 SE:2", "NAR",
                  (50e3, 120e3), (100e3, 2e6)),
            _good("871120", "Motorcycles, 125-250 cc", "CN:7 IN:3", "NAR",
                  (500, 1800), (30e3, 600e3), 1.5),
        ),
        max_items=2,
    ),
    "auto_parts": Lane(
        (
            _good("870899", "Vehicle parts and accessories", "CN:5 DE:2 KR:2 TR:2 JP:1", "KGM",
                  (5, 20), (20e3, 600e3), 3),
            _good("870830", "Brake pads and discs", "CN:4 TR:3 DE:2 KR:1", "KGM",
                  (4, 12), (15e3, 300e3), 2),
            _good("840991", "Engine parts (pistons, cylinder heads)", "CN:4 DE:3 KR:2 JP:1",
                  "KGM", (6, 25), (20e3, 400e3), 2),
            _good("401110", "Passenger car tyres", "CN:6 TR:2 KR:1 IN:1", "NAR",
                  (25, 90), (30e3, 700e3), 2),
            _good("870840", "Gearboxes and parts", "CN:4 DE:2 JP:2 KR:2", "KGM",
                  (8, 30), (20e3, 500e3)),
            _good("848210", "Ball bearings", "CN:4 DE:2 JP:2 IT:1", "KGM", (5, 20), (10e3, 300e3)),
        )
    ),
    "chemicals": Lane(
        (
            _good("381590", "Catalysts for refinery and petrochemical units",
                  "DE:4 CN:3 IT:1 JP:1", "KGM", (10, 80), (50e3, 2e6), 1.5),
            _good("320611", "Titanium dioxide pigment, rutile", "CN:7 DE:2", "KGM",
                  (2.2, 3.2), (30e3, 500e3), 2),
            _good("290371", "HCFC-22 refrigerant gas (chlorodifluoromethane)", "CN:7 IN:3",
                  "KGM", (2.5, 5.0), (10e3, 200e3), 0.8),
            _good("382499", "Chemical additives and preparations", "DE:3 CN:3 IN:2 TR:2", "KGM",
                  (1.5, 8.0), (20e3, 400e3), 2),
            _good("380891", "Agricultural insecticides", "CN:4 IN:4 DE:1", "KGM",
                  (4, 15), (20e3, 400e3)),
            _good("340290", "Industrial cleaning preparations", "TR:4 DE:3 CN:2", "KGM",
                  (1.2, 4.0), (10e3, 200e3)),
            _good("382590", "Spent catalysts for precious-metal recovery", "AE:2 TR:1 DE:1",
                  "KGM", (5, 30), (20e3, 300e3), 0.15),
        )
    ),
    "cosmetics": Lane(
        (
            _good("330499", "Skin-care creams", "FR:3 KR:3 DE:2 TR:2", "KGM",
                  (10, 60), (15e3, 300e3), 2),
            _good("330510", "Shampoos", "TR:5 DE:2 AE:2", "KGM", (2, 6), (10e3, 200e3)),
            _good("330300", "Perfumes (eau de parfum)", "FR:6 AE:3 IT:1", "NAR",
                  (8, 60), (20e3, 500e3)),
            _good("340111", "Toilet soap bars", "TR:6 MY:2 AE:2", "KGM", (1.5, 4), (10e3, 150e3)),
        )
    ),
    "textiles": Lane(
        (
            _good("540233", "Textured polyester filament yarn", "CN:5 IN:3 TR:2", "KGM",
                  (1.3, 2.2), (30e3, 600e3), 2),
            _good("550320", "Polyester staple fibre", "CN:5 IN:3 KR:1", "KGM",
                  (1.0, 1.6), (30e3, 500e3)),
            _good("551513", "Polyester-wool suiting fabric", "TR:4 CN:4 IT:2", "MTR",
                  (4, 15), (20e3, 300e3)),
            _good("600622", "Dyed cotton knitted fabric", "TR:5 CN:4", "KGM",
                  (4, 9), (20e3, 300e3)),
            _good("620342", "Men's cotton trousers", "TR:6 CN:2 BD:2", "NAR",
                  (4, 15), (15e3, 250e3)),
            _good("610910", "Cotton T-shirts", "TR:5 BD:3 CN:2", "NAR", (1.5, 6), (10e3, 200e3)),
        )
    ),
    "steel": Lane(
        (
            _good("720839", "Hot-rolled steel coil, under 3 mm", "CN:5 RU:3 IN:2", "TNE",
                  (520, 700), (200e3, 4e6), 2),
            _good("721049", "Galvanised steel sheet", "CN:6 KR:2 TR:2", "TNE",
                  (650, 900), (100e3, 2e6)),
            _good("730419", "Seamless line pipe for oil and gas", "CN:5 DE:2 RU:2 IT:1", "TNE",
                  (900, 1800), (200e3, 3e6)),
        ),
        max_items=2,
    ),
    "machinery": Lane(
        (
            _good("842952", "Hydraulic excavators", "CN:5 KR:3 JP:2", "NAR",
                  (60e3, 300e3), (60e3, 1.5e6)),
            _good("847989", "Industrial production machines", "DE:4 IT:3 CN:3", "NAR",
                  (10e3, 400e3), (50e3, 2e6), 2),
            _good("848180", "Industrial valves", "IT:4 DE:3 CN:3", "NAR",
                  (50, 3000), (20e3, 600e3)),
            _good("850440", "UPS units and power inverters", "CN:6 DE:2 TR:2", "NAR",
                  (100, 5000), (20e3, 500e3)),
            _good("841370", "Centrifugal pumps", "IT:4 DE:3 CN:3", "NAR",
                  (300, 8000), (20e3, 500e3)),
            _good("847710", "Injection-moulding machines", "CN:5 DE:3 AT:1", "NAR",
                  (40e3, 300e3), (40e3, 1.2e6)),
        ),
        max_items=4,
    ),
    "printing": Lane(
        (
            _good("370130", "CTP printing plates", "CN:4 DE:3 JP:2 BE:1", "MTK",
                  (3, 8), (20e3, 300e3), 2),
            _good("490199", "Academic and scientific books", "GB:4 DE:3 NL:2", "NAR",
                  (15, 120), (10e3, 150e3)),
            _good("490300", "Children's picture books", "TR:3 CN:3 GB:2", "NAR",
                  (1.5, 8), (10e3, 100e3)),
        ),
        max_items=3,
    ),
    "seeds": Lane(
        (
            _good("120991", "Hybrid vegetable seeds for sowing (tomato, cucumber)",
                  "NL:5 TR:2 JP:2 FR:1", "KGM", (200, 3000), (20e3, 400e3), 2),
            _good("100510", "Hybrid maize seed for sowing", "TR:3 RS:2 FR:2 HU:2", "TNE",
                  (2000, 4000), (50e3, 800e3)),
        ),
        max_items=2,
    ),
    "pets": Lane(
        (_good("010632", "Captive-bred parrots", "AE:3 NL:2 PK:2", "NAR",
               (50, 800), (10e3, 60e3)),),
        max_items=1,
    ),
    "ammunition": Lane(
        (
            _good("930621", "Shotgun cartridges for licensed hunting clubs", "IT:5 TR:4", "NAR",
                  (0.3, 0.8), (10e3, 120e3)),
        ),
        max_items=1,
    ),
    # -- exports (Iranian origin)
    "petrochemicals": Lane(
        (
            _good("390120", "HDPE granules, blow-moulding grade", _IR, "TNE",
                  (850, 1050), (300e3, 5e6), 3),
            _good("390110", "LDPE film grade", _IR, "TNE", (900, 1150), (300e3, 4e6), 2),
            _good("290511", "Methanol, bulk", _IR, "TNE", (250, 350), (1e6, 9e6), 3),
            _good("310210", "Granular urea, 46% N", _IR, "TNE", (280, 380), (500e3, 8e6), 2),
            _good("271320", "Petroleum bitumen, 60/70", _IR, "TNE", (280, 380), (200e3, 3e6), 2),
            _good("390210", "Polypropylene homopolymer", _IR, "TNE",
                  (850, 1050), (300e3, 4e6), 1.5),
            _good("290531", "Mono-ethylene glycol", _IR, "TNE", (450, 600), (500e3, 5e6)),
            _good("281410", "Anhydrous ammonia", _IR, "TNE", (250, 400), (500e3, 6e6)),
        ),
        max_items=2,
    ),
    "nuts_saffron": Lane(
        (
            _good("080251", "Pistachios in shell, Akbari and Fandoghi", _IR, "KGM",
                  (7, 12), (50e3, 1.5e6), 4),
            _good("080252", "Shelled pistachio kernels", _IR, "KGM", (15, 30), (30e3, 800e3), 2),
            _good("091020", "Saffron, Negin and Sargol grade", _IR, "KGM",
                  (700, 1500), (20e3, 600e3), 3),
            _good("080410", "Dates, Mazafati and Piarom", _IR, "KGM", (1.2, 3.5), (20e3, 400e3), 2),
            _good("080620", "Raisins, golden and green", _IR, "KGM", (1.5, 3.0), (20e3, 300e3)),
        ),
        max_items=3,
    ),
    "fruit_veg": Lane(
        (
            _good("080810", "Fresh apples", _IR, "KGM", (0.35, 0.7), (15e3, 200e3), 2),
            _good("070200", "Fresh tomatoes", _IR, "KGM", (0.3, 0.6), (10e3, 150e3), 2),
            _good("081050", "Fresh kiwifruit", _IR, "KGM", (0.5, 1.1), (15e3, 200e3), 1.5),
            _good("080420", "Dried figs", _IR, "KGM", (3, 7), (15e3, 200e3)),
            _good("071320", "Dried chickpeas", _IR, "KGM", (0.8, 1.5), (15e3, 200e3)),
        ),
        max_items=3,
    ),
    "carpets": Lane(
        (
            _good("570110", "Hand-knotted wool carpets", _IR, "MTK", (80, 600), (20e3, 500e3), 3),
            _good("570242", "Machine-woven acrylic carpets", _IR, "MTK", (5, 15), (20e3, 300e3)),
        ),
        max_items=2,
    ),
    "steel_export": Lane(
        (
            _good("720712", "Steel billets, 150 x 150 mm", _IR, "TNE", (450, 560), (500e3, 8e6), 3),
            _good("721420", "Reinforcing bars (rebar)", _IR, "TNE", (480, 600), (200e3, 3e6), 2),
            _good("760110", "Unwrought aluminium ingots", _IR, "TNE",
                  (2100, 2600), (300e3, 5e6)),
            _good("740311", "Copper cathodes", _IR, "TNE", (7500, 9500), (500e3, 6e6)),
        ),
        max_items=2,
    ),
    "construction": Lane(
        (
            _good("252329", "Portland cement, bulk and jumbo bags", _IR, "TNE",
                  (35, 55), (30e3, 1e6), 3),
            _good("690721", "Ceramic floor and wall tiles", _IR, "MTK", (3, 8), (15e3, 300e3), 2),
        ),
        max_items=2,
    ),
    "consumer_export": Lane(
        (
            _good("841810", "Household refrigerators", _IR, "NAR", (220, 600), (20e3, 400e3)),
            _good("392690", "Plastic household articles", _IR, "KGM", (1.5, 4.0), (10e3, 200e3)),
            _good("340290", "Detergent powder", _IR, "KGM", (0.8, 1.6), (10e3, 250e3)),
            _good("190531", "Sweet biscuits", _IR, "KGM", (1.2, 2.5), (10e3, 200e3)),
            _good("170490", "Sugar confectionery", _IR, "KGM", (1.2, 2.8), (10e3, 150e3)),
        ),
        max_items=4,
    ),
    "animal_export": Lane(
        (
            _good("040690", "White cheese (feta type)", _IR, "KGM", (2.5, 5), (15e3, 250e3), 2),
            _good("040390", "Yoghurt drink (doogh)", _IR, "KGM", (0.5, 1.0), (10e3, 150e3)),
            _good("010410", "Live sheep", _IR, "NAR", (120, 250), (50e3, 800e3)),
            _good("030617", "Frozen farmed shrimp (vannamei)", _IR, "KGM",
                  (5, 9), (50e3, 700e3), 1.5),
        ),
        max_items=2,
    ),
    "art": Lane(
        (_good("970191", "Contemporary paintings", _IR, "NAR", (1e3, 20e3), (10e3, 200e3)),),
        max_items=2,
    ),
    # -- transit (foreign goods crossing Iran)
    "transit_consumer": Lane(
        (
            _good("851713", "Smartphones", "CN:6 AE:3 VN:1", "NAR", (90, 500), (50e3, 2e6), 2),
            _good("401110", "Passenger car tyres", "CN:6 TR:2 KR:1", "NAR",
                  (25, 90), (30e3, 500e3), 2),
            _good("847130", "Laptop computers", "CN:8 AE:2", "NAR", (300, 1000), (30e3, 600e3)),
            _good("610910", "Cotton T-shirts", "TR:4 CN:4 BD:2", "NAR", (1.5, 6), (10e3, 150e3)),
            _good("870899", "Vehicle parts", "CN:6 TR:2 KR:2", "KGM", (5, 20), (20e3, 400e3)),
            _good("841810", "Refrigerator-freezers", "TR:4 CN:4 KR:2", "NAR",
                  (250, 800), (30e3, 500e3)),
        ),
        max_items=4,
    ),
    "transit_food": Lane(
        (
            _good("020714", "Frozen chicken leg quarters", "BR:6 TR:2 IN:2", "KGM",
                  (1.5, 2.5), (50e3, 600e3), 2),
            _good("100630", "Milled rice", "IN:6 PK:4", "KGM", (0.5, 1.2), (50e3, 800e3), 2),
            _good("080390", "Fresh bananas", "EC:5 PH:3 IN:2", "KGM", (0.6, 1.0), (20e3, 200e3)),
            _good("170199", "White refined sugar", "BR:5 IN:3 AE:2", "KGM",
                  (0.45, 0.65), (100e3, 1.5e6)),
            _good("151219", "Refined sunflower oil", "RU:6 KZ:2 UA:2", "KGM",
                  (1.0, 1.4), (100e3, 1e6)),
            _good("090230", "Black tea", "IN:4 LK:4 KE:2", "KGM", (2.5, 5.0), (30e3, 300e3)),
        ),
        max_items=2,
    ),
    "transit_vehicles": Lane(
        (
            _good("870323", "Passenger cars, petrol", "CN:5 KR:2 JP:3", "NAR",
                  (10e3, 40e3), (50e3, 1.5e6), 2),
            _good("870421", "Light diesel trucks", "CN:5 TR:2 JP:3", "NAR",
                  (15e3, 40e3), (50e3, 1e6)),
        ),
        max_items=2,
    ),
    "transit_bulk": Lane(
        (
            _good("520100", "Raw cotton, not carded", "UZ:5 TM:4 KZ:1", "TNE",
                  (1500, 2000), (200e3, 3e6), 2),
            _good("310210", "Granular urea", "TM:5 UZ:3 RU:2", "TNE", (280, 380), (300e3, 4e6)),
            _good("271019", "Gas oil", "TM:5 RU:3 KZ:2", "TNE", (600, 800), (500e3, 6e6)),
        ),
        max_items=1,
    ),
}
# fmt: on


# -- customs offices -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfficeProfile:
    """How much an office files, of which procedures, in which lanes."""

    weight: float
    kinds: tuple[tuple[str, float], ...]
    lanes: dict[str, tuple[tuple[str, float], ...]]


def _office(
    weight: float,
    kinds: tuple[float, float, float],
    *,
    imports: str = "",
    exports: str = "",
    transit: str = "",
) -> OfficeProfile:
    """An office profile; ``kinds`` are the import, export and transit shares."""
    specs = {"import": imports, "export": exports, "transit": transit}
    shares = dict(zip(specs, kinds, strict=True))
    return OfficeProfile(
        weight,
        tuple((kind, share) for kind, share in shares.items() if share > 0 and specs[kind]),
        {kind: _weighted(spec) for kind, spec in specs.items() if spec},
    )


_BORDER_EXPORTS = "consumer_export:2 fruit_veg:2 construction:1.5 animal_export:1"

OFFICES: dict[str, OfficeProfile] = {
    "SHRJ": _office(
        30,
        (0.72, 0.2, 0.08),
        imports="food:3 feed:1 pharma:1 medical:0.6 phones:2 electronics:2 appliances:2.5 "
        "vehicles:1 auto_parts:2.5 chemicals:2 cosmetics:1 textiles:2 steel:1.5 machinery:2 "
        "printing:0.6 seeds:0.3 ammunition:0.1",
        exports="petrochemicals:4 nuts_saffron:2 steel_export:2 carpets:0.3 construction:0.8 "
        "fruit_veg:0.5",
        transit="transit_consumer:3 transit_food:2 transit_vehicles:1",
    ),
    "IKIA": _office(
        11,
        (0.8, 0.18, 0.02),
        imports="pharma:4 medical:3 phones:2 electronics:2 livestock:1 seeds:1.5 cosmetics:1 "
        "isotopes:0.6 printing:0.4 pets:0.2 ammunition:0.4",
        exports="nuts_saffron:3 carpets:1.5 art:0.5",
        transit="transit_consumer:1",
    ),
    "GTEH": _office(
        10,
        (0.9, 0.1, 0),
        imports="appliances:2 auto_parts:2 machinery:2 medical:1 electronics:1.5 chemicals:1.5 "
        "textiles:1 printing:1.2 cosmetics:1 food:1 seeds:0.5 ammunition:0.6",
        exports="carpets:1 consumer_export:1 nuts_saffron:1 art:0.3",
    ),
    "BAZG": _office(
        8,
        (0.45, 0.35, 0.2),
        imports="food:1.5 textiles:2 appliances:1.5 auto_parts:1.5 vehicles:0.5 chemicals:1 "
        "cosmetics:1 livestock:0.5 seeds:0.5 ammunition:0.3",
        exports="fruit_veg:2 nuts_saffron:1.5 petrochemicals:1 construction:1 carpets:0.5",
        transit="transit_consumer:2 transit_vehicles:1 transit_food:1",
    ),
    "BIK": _office(
        8,
        (0.7, 0.28, 0.02),
        imports="feed:6 food:2 livestock:0.6 steel:0.5 chemicals:0.5",
        exports="petrochemicals:5 steel_export:1",
        transit="transit_food:1",
    ),
    "BUSH": _office(
        5,
        (0.45, 0.5, 0.05),
        imports="food:2 feed:1 appliances:1 auto_parts:1 textiles:1",
        exports="petrochemicals:5 construction:1 fruit_veg:0.5 animal_export:0.5",
        transit="transit_consumer:1",
    ),
    "ANZL": _office(
        3,
        (0.7, 0.25, 0.05),
        imports="feed:3 food:2 steel:1 chemicals:0.5",
        exports="fruit_veg:2 construction:0.5 animal_export:0.3",
        transit="transit_food:1",
    ),
    "AMIR": _office(
        2.5,
        (0.65, 0.15, 0.2),
        imports="feed:4 food:1 steel:0.5",
        exports="fruit_veg:1 petrochemicals:1",
        transit="transit_food:1 transit_consumer:0.5",
    ),
    "SRKH": _office(
        2.5,
        (0.2, 0.4, 0.4),
        imports="chemicals:1 feed:1 steel:0.5",
        exports="consumer_export:1 construction:1 fruit_veg:1 petrochemicals:1",
        transit="transit_bulk:2 transit_consumer:1 transit_vehicles:0.5",
    ),
    "MASH": _office(
        3,
        (0.6, 0.4, 0),
        imports="machinery:1 auto_parts:1 appliances:1 food:0.5 textiles:0.5",
        exports="nuts_saffron:3 carpets:1 fruit_veg:0.5",
    ),
    "TABZ": _office(
        3.5,
        (0.7, 0.3, 0),
        imports="machinery:2 auto_parts:2 chemicals:1 textiles:1.5 vehicles:0.5 printing:0.3",
        exports="carpets:2 consumer_export:1 fruit_veg:0.5",
    ),
    "ISFH": _office(
        3.5,
        (0.6, 0.4, 0),
        imports="machinery:2 steel:1 auto_parts:1 chemicals:1 textiles:1 printing:0.3",
        exports="steel_export:3 carpets:0.8 construction:1",
    ),
    "SHRZ": _office(
        2.5,
        (0.7, 0.3, 0),
        imports="food:1 pharma:0.5 medical:0.5 machinery:1 appliances:1 auto_parts:1",
        exports="nuts_saffron:1 fruit_veg:1 petrochemicals:0.5",
    ),
    "CHAB": _office(
        2.5,
        (0.55, 0.15, 0.3),
        imports="food:3 feed:1 appliances:0.5",
        exports="fruit_veg:0.5 construction:0.5",
        transit="transit_food:2 transit_consumer:1",
    ),
    "MILK": _office(
        1.2,
        (0.1, 0.6, 0.3),
        imports="food:1",
        exports=_BORDER_EXPORTS,
        transit="transit_food:1 transit_consumer:1",
    ),
    "BSHM": _office(1.5, (0.15, 0.85, 0), imports="textiles:1 food:1", exports=_BORDER_EXPORTS),
    "PRVZ": _office(1.5, (0.15, 0.85, 0), imports="food:1 textiles:1", exports=_BORDER_EXPORTS),
    "MHRN": _office(1.5, (0.1, 0.9, 0), imports="food:1", exports=_BORDER_EXPORTS),
    "QAZV": _office(
        2,
        (0.9, 0.1, 0),
        imports="chemicals:2 machinery:2 textiles:1 auto_parts:1",
        exports="consumer_export:1",
    ),
    "KRJ": _office(
        3,
        (0.85, 0.15, 0),
        imports="auto_parts:2 machinery:2 appliances:1 electronics:1 chemicals:1 vehicles:0.5",
        exports="consumer_export:1",
    ),
}


# -- people --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TraderSpec:
    """A trader or customs broker: the offices they file at (usual one first), their lanes.

    A customs broker (no lanes of their own) files whatever comes through their offices.
    """

    username: str
    full_name: str
    offices: tuple[str, ...]
    lanes: frozenset[str] = frozenset()


def _trader(username: str, full_name: str, offices: str, lanes: str = "") -> TraderSpec:
    return TraderSpec(username, full_name, tuple(offices.split()), frozenset(lanes.split()))


TRADERS: tuple[TraderSpec, ...] = (
    # customs brokers (karghozar-e gomrok), at least one at every office
    _trader("broker-rajaee", "Karghozari-ye Gomroki-ye Shahid Rajaee Co.", "SHRJ"),
    _trader("broker-hormoz", "Hormoz Gostar Tarkhis Co.", "SHRJ"),
    _trader("broker-makran", "Makran Sahel Customs Brokerage", "CHAB MILK"),
    _trader("broker-arvand", "Arvand Tarabar Customs Brokerage", "BIK"),
    _trader("broker-khalij", "Khalij-e Fars Tarkhis Co.", "BUSH"),
    _trader("broker-parvaz", "Parvaz Tarkhis-e Tehran Co.", "IKIA"),
    _trader("broker-tehran", "Tehran Gomrok Khadamat Co.", "GTEH KRJ QAZV"),
    _trader("broker-arax", "Aras Marz Customs Brokerage", "BAZG"),
    _trader("broker-azar", "Azar Tarkhis-e Tabriz Co.", "TABZ"),
    _trader("broker-khazar", "Khazar Bandar Anzali Brokerage", "ANZL AMIR"),
    _trader("broker-sarakhs", "Sarakhs Rail Tarabar Co.", "SRKH MASH"),
    _trader("broker-sepahan", "Sepahan Tarkhis Co.", "ISFH"),
    _trader("broker-pars", "Pars Jonubi Gomrok Services", "SHRZ"),
    _trader("broker-zagros", "Zagros Marz Customs Brokerage", "BSHM PRVZ MHRN"),
    # traders who file their own goods
    _trader(
        "trader-bandar",
        "Tejarat Kala-ye Bandar Co.",
        "SHRJ CHAB",
        "phones electronics appliances textiles",
    ),
    _trader("trader-golbahar", "Golbahar Sanaye-e Ghazaei Co.", "SHRJ BUSH", "food"),
    _trader("trader-darou", "Pars Darou Pakhsh Co.", "IKIA SHRJ", "pharma"),
    _trader(
        "trader-tebgostar",
        "Teb Gostar-e Aria Medical Equipment Co.",
        "IKIA GTEH",
        "medical isotopes",
    ),
    _trader("trader-mobin", "Mobin Tejarat-e Digital Co.", "IKIA SHRJ", "phones electronics"),
    _trader(
        "trader-sabzbazr",
        "Sabz Bazr-e Golestan Agricultural Inputs Co.",
        "IKIA BAZG",
        "seeds livestock pets",
    ),
    _trader(
        "trader-khooshe",
        "Khoosheh Talaei Grain Trading Co.",
        "BIK AMIR ANZL CHAB",
        "feed livestock",
    ),
    _trader("trader-arya", "Arya Lavazem-e Khanegi Co.", "GTEH SHRJ", "appliances"),
    _trader("trader-negar", "Negar Ketab va Chap Supplies", "GTEH", "printing ammunition"),
    _trader("trader-sahand", "Sahand Khodro Qate Co.", "TABZ BAZG SHRJ", "auto_parts vehicles"),
    _trader("trader-shimi", "Qazvin Shimi Sanat Co.", "QAZV SHRJ", "chemicals cosmetics"),
    _trader(
        "trader-petropars", "Pars Petrochemical Commerce Co.", "BUSH BIK SHRJ", "petrochemicals"
    ),
    _trader("trader-kaveh", "Pesteh Kaveh Export Co.", "SHRJ BAZG", "nuts_saffron"),
    _trader("trader-zarrin", "Zarrin Saffron-e Khorasan Co.", "MASH IKIA", "nuts_saffron"),
    _trader("trader-farsh", "Farsh-e Dastbaf-e Tabriz Export Co.", "TABZ IKIA GTEH", "carpets art"),
    _trader(
        "trader-foolad",
        "Foolad Sepahan Trading Co.",
        "ISFH BIK SHRJ",
        "steel steel_export construction",
    ),
    _trader(
        "trader-omid",
        "Omid Transit Logistics Co.",
        "SRKH BAZG MILK",
        "transit_consumer transit_food transit_vehicles transit_bulk",
    ),
    _trader(
        "trader-sirwan",
        "Sirwan Export Trading Co.",
        "BSHM PRVZ MHRN",
        "consumer_export fruit_veg animal_export construction",
    ),
)

_OFFICER_NAMES = (
    "Maryam Ahmadi", "Reza Karimi", "Zahra Hosseini", "Ali Rezaei", "Fatemeh Moradi",
    "Mohammad Jafari", "Narges Rahimi", "Hossein Sadeghi", "Leila Ebrahimi", "Mehdi Ghasemi",
    "Sara Kazemi", "Amir Mohammadi", "Elham Nouri", "Hamid Hashemi", "Shirin Alavi",
    "Saeed Rostami", "Parisa Kamali", "Javad Mousavi", "Mina Soltani", "Behrouz Tavakoli",
    "Nasrin Zamani", "Kaveh Bagheri", "Roya Shahbazi", "Davood Akbari",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """One account the demo opens."""

    username: str
    role: Role
    agency: str | None
    full_name: str
    province: str | None = None


def demo_accounts(agency_codes: Iterable[str]) -> list[DemoAccount]:
    """Every demo account: admin, supervisor, an officer and a head per agency, the traders.

    ``agency_codes`` are the agencies that answer some inquiry type of the active rule set.
    """
    accounts = [
        DemoAccount("admin", Role.ADMIN, None, "Panjereh System Administrator"),
        DemoAccount("supervisor", Role.SUPERVISOR, None, "National Trade Supervisor"),
    ]
    for n, code in enumerate(sorted(agency_codes)):
        officer = _OFFICER_NAMES[(2 * n) % len(_OFFICER_NAMES)]
        head = _OFFICER_NAMES[(2 * n + 1) % len(_OFFICER_NAMES)]
        accounts.append(DemoAccount(f"officer-{code.lower()}", Role.OFFICER, code, officer))
        accounts.append(DemoAccount(f"head-{code.lower()}", Role.AGENCY_HEAD, code, head))
    offices = customs_offices()
    for trader in TRADERS:
        province = offices[trader.offices[0]].province
        accounts.append(DemoAccount(trader.username, Role.TRADER, None, trader.full_name, province))
    return accounts


# -- how agencies answer -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgencyPace:
    """How an agency answers: a log-normal delay in business days, and how it decides."""

    median_days: float
    spread: float
    max_days: float
    reject: float
    info: float
    info_reasons: tuple[str, ...]
    reject_reasons: tuple[str, ...]
    stuck: float = 0.02
    """Share of files that sit in a pile 2-4 times longer: the cases escalation exists for."""


# fmt: off
PACES: dict[str, AgencyPace] = {
    "MIMT": AgencyPace(
        median_days=0.35, spread=0.9, max_days=3, reject=0.02, info=0.07, stuck=0.02,
        info_reasons=(
            "The proforma invoice does not match the registered order; upload the final proforma.",
            "کد رهگیری ثبت سفارش با پیش‌فاکتور مطابقت ندارد؛ پیش‌فاکتور اصلاح‌شده را بارگذاری کنید.",
            "The seller's name differs from the order registration; send the amended contract.",
        ),
        reject_reasons=(
            "Order registration refused: the goods are in the prohibited import group.",
            "ثبت سفارش رد شد: کالا در گروه کالایی ممنوع‌الورود قرار دارد.",
            "The declared unit price is far above the reference price for this tariff line.",
        ),
    ),
    "CBI": AgencyPace(
        median_days=0.6, spread=0.8, max_days=4, reject=0.02, info=0.08, stuck=0.02,
        info_reasons=(
            "Send the paying bank's confirmation of the currency source.",
            "گواهی تأمین ارز از بانک عامل را ارسال کنید.",
            "Currency source declared as export proceeds: attach the export certificate.",
        ),
        reject_reasons=(
            "Currency source not approved: the foreign-exchange allocation has expired.",
            "منشأ ارز تأیید نشد؛ مهلت تخصیص ارز به پایان رسیده است.",
        ),
    ),
    "PPO": AgencyPace(
        median_days=1.6, spread=0.45, max_days=6, reject=0.04, info=0.1, stuck=0.03,
        info_reasons=(
            "The phytosanitary certificate of the country of origin is missing; upload it.",
            "گواهی بهداشت گیاهی کشور مبدأ ارائه نشده است.",
            "Send the fumigation certificate of the wooden packaging (ISPM 15).",
        ),
        reject_reasons=(
            "A quarantine pest (khapra beetle) was found in the consignment sample.",
            "آفت قرنطینه‌ای در نمونه محموله مشاهده شد؛ ورود محموله مجاز نیست.",
        ),
    ),
    "IVO": AgencyPace(
        median_days=3.8, spread=0.4, max_days=12, reject=0.05, info=0.12, stuck=0.08,
        info_reasons=(
            "The veterinary health certificate of the exporting country is missing.",
            "گواهی حلال و گواهی بهداشتی کشتارگاه مبدأ را ارسال کنید.",
            "Send the container's cold-chain temperature log.",
        ),
        reject_reasons=(
            "The consignment comes from a region under a foot-and-mouth disease ban.",
            "نتیجه آزمایش باقیمانده دارویی نمونه مثبت بود.",
            "Laboratory test positive for Salmonella.",
        ),
    ),
    "IFDA": AgencyPace(
        median_days=4.0, spread=0.5, max_days=15, reject=0.06, info=0.14, stuck=0.06,
        info_reasons=(
            "No product registration (IRC) found; send the IRC or the import permit.",
            "کد IRC محصول در سامانه ثبت نشده است؛ مجوز ورود را ارسال کنید.",
            "Send the certificate of analysis of this batch.",
            "The Persian label is missing; send the label artwork.",
        ),
        reject_reasons=(
            "Laboratory test failed: aflatoxin above the national limit.",
            "مدت ماندگاری باقیمانده کالا کمتر از دو سوم عمر مفید آن است.",
            "The product is not registered and has no import permit.",
        ),
    ),
    "INSO": AgencyPace(
        median_days=7.5, spread=0.45, max_days=25, reject=0.06, info=0.15, stuck=0.12,
        info_reasons=(
            "The certificate of conformity from an accredited inspection body is missing.",
            "گزارش آزمون آزمایشگاه همکار برای برچسب انرژی ارائه نشده است.",
            "The test report does not cover the energy label class; send it.",
        ),
        reject_reasons=(
            "The sample failed the mandatory standard test (energy class below B).",
            "نمونه در آزمون استاندارد اجباری مردود شد.",
        ),
    ),
    "CRA": AgencyPace(
        median_days=4.5, spread=0.45, max_days=14, reject=0.04, info=0.12, stuck=0.04,
        info_reasons=(
            "No type approval found for this model; send the model number and the IMEI list.",
            "فهرست شناسه‌های IMEI گوشی‌ها را بارگذاری کنید.",
        ),
        reject_reasons=(
            "The model is not type-approved and failed the SAR test.",
            "مدل دستگاه در فهرست مدل‌های مجاز نیست.",
        ),
    ),
    "AEOI": AgencyPace(
        median_days=9.0, spread=0.45, max_days=25, reject=0.05, info=0.15, stuck=0.1,
        info_reasons=(
            "The end user's radiation protection licence is missing.",
            "مجوز کار با اشعه کاربر نهایی ارائه نشده است.",
            "Send the source activity and the serial numbers of the devices.",
        ),
        reject_reasons=(
            "The importer holds no valid radiation licence.",
            "مجوز حفاظت در برابر اشعه صادر نشد.",
        ),
    ),
    "DOE": AgencyPace(
        median_days=11.0, spread=0.45, max_days=30, reject=0.08, info=0.15, stuck=0.12,
        info_reasons=(
            "A CITES export permit from the country of origin is needed.",
            "مجوز سهمیه واردات مواد کاهنده لایه ازن ارائه نشده است.",
        ),
        reject_reasons=(
            "This year's HCFC import quota is used up.",
            "سهمیه امسال واردات مواد کاهنده لایه ازن تمام شده است.",
        ),
    ),
    "MCIG": AgencyPace(
        median_days=4.5, spread=0.5, max_days=15, reject=0.04, info=0.12, stuck=0.15,
        info_reasons=(
            "Send the list of titles and the publisher's details.",
            "فهرست عناوین و مشخصات ناشر را ارسال کنید.",
        ),
        reject_reasons=(
            "The content is not approved for distribution.",
            "محتوا مجوز توزیع دریافت نکرد.",
        ),
    ),
    "MOD": AgencyPace(
        median_days=8.0, spread=0.45, max_days=25, reject=0.05, info=0.15, stuck=0.2,
        info_reasons=(
            "An end-user certificate from the licensed hunting federation is needed.",
            "گواهی کاربر نهایی از فدراسیون تیراندازی ارائه شود.",
        ),
        reject_reasons=("The importer is not licensed for ammunition.",),
    ),
    "AGRI": AgencyPace(
        median_days=6.0, spread=0.45, max_days=18, reject=0.04, info=0.12, stuck=0.15,
        info_reasons=(
            "Send the variety registration certificate of the seeds.",
            "گواهی عدم تراریختگی (GMO-free) بذر را ارسال کنید.",
        ),
        reject_reasons=("The seed variety is not in the national variety list.",),
    ),
}
# fmt: on

# Some inquiry types run at their own pace within an agency (median business days).
_TYPE_MEDIAN_DAYS = {"IFDA-DRUG": 0.8, "IFDA-MED": 5.5, "DOE-OZONE": 8.0}

_DEFAULT_PACE = AgencyPace(
    3.0, 0.5, 15, 0.05, 0.1,
    ("Please send the missing documents.", "لطفاً مدارک ناقص را ارسال کنید."),
    ("The documents do not meet the requirements.",),
)  # fmt: skip

_TRADER_REPLIES = (
    "The corrected proforma invoice is uploaded.",
    "گواهی درخواستی بارگذاری شد؛ لطفاً بررسی فرمایید.",
    "The original certificate is attached.",
    "مدارک تکمیلی ارسال شد.",
    "The test report of the accredited laboratory is attached.",
    "The bank's confirmation letter is attached.",
    "نامه تأیید بانک عامل پیوست شد.",
)


# -- filings -------------------------------------------------------------------------------

# Units of currency in USD, as in the default rule set's reference rates.
_USD_PER_UNIT = {
    "USD": Decimal(1),
    "EUR": Decimal("1.08"),
    "AED": Decimal("0.2723"),
    "CNY": Decimal("0.138"),
    "TRY": Decimal("0.029"),
    "INR": Decimal("0.012"),
    "RUB": Decimal("0.011"),
    "IRR": Decimal("0.0000012"),
}
_EURO_ORIGINS = frozenset({"DE", "IT", "FR", "NL", "ES", "BE", "AT", "CH", "DK", "SE", "IE", "HU"})
_ITEM_COUNTS = _weighted("1:30 2:24 3:18 4:12 5:9 6:7")


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _currency(rng: random.Random, kind: str, origin: str) -> str:
    """The invoice currency: mostly USD, EUR, AED and CNY; rials for some imports."""
    if kind == "export":
        return _pick(rng, _weighted("USD:35 EUR:25 AED:25 CNY:12 IRR:3"))
    if kind == "transit":
        return _pick(rng, _weighted("USD:60 AED:25 EUR:15"))
    if rng.random() < 0.05:
        return "IRR"  # imports without currency transfer are declared in rials
    if origin == "CN" or origin == "HK":
        return _pick(rng, _weighted("CNY:35 USD:30 AED:30 EUR:5"))
    if origin in _EURO_ORIGINS:
        return _pick(rng, _weighted("EUR:80 USD:10 AED:10"))
    if origin == "AE":
        return _pick(rng, _weighted("AED:70 USD:30"))
    if origin == "TR":
        return _pick(rng, _weighted("EUR:45 USD:45 TRY:10"))
    if origin == "RU":
        return _pick(rng, _weighted("RUB:30 USD:30 CNY:20 AED:20"))
    if origin == "IN":
        return _pick(rng, _weighted("USD:50 AED:30 INR:20"))
    return _pick(rng, _weighted("USD:60 AED:30 EUR:10"))


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _item(rng: random.Random, good: Good, origin: str, currency: str) -> ItemIn:
    price = rng.uniform(*good.unit_price_usd)
    target = _log_uniform(rng, *good.line_value_usd)
    if good.unit == "TNE":
        quantity = Decimal(str(max(1.0, round(target / price, 3))))  # bulk: to the kilogram
    else:
        quantity = Decimal(max(1, round(target / price)))
    value = quantity * Decimal(str(round(price, 4))) / _USD_PER_UNIT[currency]
    if currency == "IRR":
        value = (value / 1000).quantize(Decimal(1)) * 1000  # rials, to the thousand
    else:
        value = value.quantize(Decimal("0.01"))
    return ItemIn(
        hs_code=good.hs_code,
        description=good.description,
        origin_country=origin,
        quantity=quantity,
        unit=good.unit,
        value=value,
        currency=currency,
    )


_KINDS: dict[str, Kind] = {"import": "import", "export": "export", "transit": "transit"}


def _declaration(rng: random.Random, office: str) -> tuple[DeclarationIn, str]:
    """One plausible filing at ``office`` (a procedure, 1-6 related goods), and its lane."""
    profile = OFFICES[office]
    kind = _KINDS[_pick(rng, profile.kinds)]
    lane_name = _pick(rng, profile.lanes[kind])
    lane = LANES[lane_name]
    count = min(int(_pick(rng, _ITEM_COUNTS)), lane.max_items, len(lane.goods))
    goods: list[Good] = []
    while len(goods) < count:
        good = rng.choices(lane.goods, [g.weight for g in lane.goods])[0]
        if good not in goods:
            goods.append(good)
    origin = _pick(rng, goods[0].origins)
    currency = _currency(rng, kind, origin)
    items = []
    for good in goods:
        line_origin = origin if origin in dict(good.origins) else _pick(rng, good.origins)
        items.append(_item(rng, good, line_origin, currency))
    payload = DeclarationIn(
        kind=kind,
        customs_office=office,
        province=customs_offices()[office].province,
        items=items,
    )
    return payload, lane_name


def _trader_for(rng: random.Random, office: str, lane: str) -> str:
    """Who files it: a trader of that lane at that office, or else a customs broker there."""
    specialists = [t for t in TRADERS if office in t.offices and lane in t.lanes]
    brokers = [t for t in TRADERS if office in t.offices and not t.lanes]
    candidates = specialists * 3 + brokers or [t for t in TRADERS if office in t.offices]
    return rng.choice(candidates).username


# Filing intensity by weekday (Monday = 0): Saturday to Wednesday are full days, customs
# works a lighter Thursday, and almost nobody files on Friday.
_WEEKDAY_WEIGHT = {0: 1.0, 1: 1.0, 2: 0.95, 3: 0.35, 4: 0.03, 5: 1.05, 6: 1.0}
_HOLIDAY_WEIGHT = 0.08


def _filing_times(
    rng: random.Random, count: int, start: datetime, now: datetime, holidays: Collection[date]
) -> list[datetime]:
    """``count`` filing instants in [start, now): mostly working hours on working days."""
    first, last = start.astimezone(TEHRAN).date(), now.astimezone(TEHRAN).date()
    days = [date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1)]
    weights = [_HOLIDAY_WEIGHT if d in holidays else _WEEKDAY_WEIGHT[d.weekday()] for d in days]
    times: list[datetime] = []
    while len(times) < count:
        day = rng.choices(days, weights)[0]
        roll = rng.random()
        if roll < 0.82:
            hours = rng.triangular(7.5, 15.5, 10.0)
        elif roll < 0.96:
            hours = rng.uniform(15.5, 19.0)
        else:
            hours = rng.uniform(19.0, 23.5)
        seconds = int(hours * 3600)
        local = datetime.combine(day, clock_time(seconds // 3600, seconds // 60 % 60), TEHRAN)
        instant = local.replace(second=seconds % 60).astimezone(UTC)
        if start <= instant < now:
            times.append(instant)
    return sorted(times)


def trader_hours(rng: random.Random, at: datetime) -> datetime:
    """Move a trader's action out of the night: traders and brokers act 08:00-22:00."""
    local = at.astimezone(TEHRAN)
    if local.hour >= 22:
        local = (local + timedelta(days=1)).replace(hour=8)
    elif local.hour < 8:
        local = local.replace(hour=8)
    else:
        return at
    return local.replace(minute=rng.randrange(60), second=rng.randrange(60)).astimezone(UTC)


# -- the replay ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _InquiryRef:
    declaration_id: int
    inquiry_id: int
    inquiry_type: str
    agency: str
    due_at: datetime
    trader: str


@dataclass(frozen=True, slots=True)
class _File:
    payload: DeclarationIn
    trader: str
    cancels: bool


@dataclass(frozen=True, slots=True)
class _Decide:
    inquiry: _InquiryRef
    outcome: Outcome
    after_reply: bool


@dataclass(frozen=True, slots=True)
class _Reply:
    inquiry: _InquiryRef


@dataclass(frozen=True, slots=True)
class _Cancel:
    declaration_id: int
    trader: str


_Action = _File | _Decide | _Reply | _Cancel


class _Replay:
    """Runs every action in global time order, each in its own transaction.

    Actions whose time is after ``now`` are never run: those answers are still to come.
    """

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        rng: random.Random,
        clock: ManualClock,
        now: datetime,
        principals: dict[str, Principal],
        homes: dict[int | None, str | None],
        calendars: dict[str, BusinessCalendar],
    ) -> None:
        self._factory, self._rng, self._clock, self._now = factory, rng, clock, now
        self._principals, self._homes, self._calendars = principals, homes, calendars
        self._signed_in: set[tuple[int, int]] = set()
        self._queue: list[tuple[datetime, int, _Action]] = []
        self._seq = 0
        self.actions = 0

    def push(self, at: datetime, action: _Action) -> None:
        """Schedule ``action`` at ``at`` (ties run in scheduling order)."""
        self._seq += 1
        heapq.heappush(self._queue, (at.replace(microsecond=0), self._seq, action))

    def run(self) -> None:
        """Run everything due up to now, moving the clock forward only."""
        while self._queue and self._queue[0][0] <= self._now:
            at, _, action = heapq.heappop(self._queue)
            if at < self._clock.now():
                raise RuntimeError("the demo clock must never move backwards")
            self._clock.set(at)
            self._sweep(at)
            if isinstance(action, _File):
                self._file(action)
            elif isinstance(action, _Decide):
                self._decide(action)
            elif isinstance(action, _Reply):
                self._reply(action)
            else:
                self._cancel(action)
        self._clock.set(self._now)
        self._sweep(self._now)

    def _sweep(self, at: datetime) -> None:
        """Let the clock sweep do what a running worker would have done by ``at``: fire the
        escalation steps due and lapse requests the trader never answered."""
        with transaction(self._factory) as session:
            due = sweep.next_due(session)
        while due is not None and due <= at:
            with transaction(self._factory) as session:
                sweep.sweep(session, now=at, limit=500)
                due = sweep.next_due(session)

    def _sign_in(self, session: Session, principal: Principal, at: datetime) -> None:
        """Count the user's sign-in for the adoption figures, once on each Tehran day they
        act (they sign in to act)."""
        assert principal.id is not None and principal.role is not None  # a demo account
        day = (periods.tehran_day(at), principal.id)
        if day in self._signed_in:
            return
        self._signed_in.add(day)
        signins.record(
            session,
            user_id=principal.id,
            role=principal.role.value,
            province=self._homes.get(principal.id),
            at=at,
        )

    def _file(self, action: _File) -> None:
        at = self._clock.now()
        with transaction(self._factory) as session:
            self._sign_in(session, self._principals[action.trader], at)
            declaration = file_declaration(
                session=session,
                principal=self._principals[action.trader],
                payload=action.payload,
                at=at,
            )
            refs = [
                _InquiryRef(
                    declaration.id, i.id, i.inquiry_type, i.agency_code, i.due_at, action.trader
                )
                for i in declaration.inquiries
            ]
        self.actions += 1
        if not refs:
            return
        for ref in refs:
            self._schedule_answer(ref, at, after_reply=False)
        if action.cancels:
            later = at + timedelta(days=self._rng.uniform(0.5, 6))
            self.push(
                trader_hours(self._rng, later), _Cancel(refs[0].declaration_id, action.trader)
            )

    def _schedule_answer(self, ref: _InquiryRef, start: datetime, *, after_reply: bool) -> None:
        pace = PACES.get(ref.agency, _DEFAULT_PACE)
        median = _TYPE_MEDIAN_DAYS.get(ref.inquiry_type, pace.median_days)
        days = min(pace.max_days, self._rng.lognormvariate(math.log(median), pace.spread))
        if not after_reply and self._rng.random() < pace.stuck:
            days *= self._rng.uniform(2.0, 4.0)
        roll = self._rng.random()
        outcome: Outcome
        if after_reply:
            outcome = "reject" if roll < 0.12 else "approve"
            days *= self._rng.uniform(0.25, 0.6)
        elif roll < pace.reject:
            outcome = "reject"
        elif roll < pace.reject + pace.info:
            outcome = "request_info"
            days *= self._rng.uniform(0.2, 0.6)
        else:
            outcome = "approve"
        at = self._calendars[ref.agency].add_business_minutes(
            start, max(5, round(days * _DAY_MINUTES))
        )
        self.push(at, _Decide(ref, outcome, after_reply))

    def _decide(self, action: _Decide) -> None:
        ref = action.inquiry
        at = self._clock.now()
        with transaction(self._factory) as session:
            if _closed(session, ref.declaration_id):
                return
            pace = PACES.get(ref.agency, _DEFAULT_PACE)
            reason = None
            if action.outcome == "reject":
                reason = self._rng.choice(pace.reject_reasons)
            elif action.outcome == "request_info":
                reason = self._rng.choice(pace.info_reasons)
            # An escalated (late) inquiry is often settled by the agency head.
            role = "head" if at > ref.due_at and self._rng.random() < 0.35 else "officer"
            deciding = self._principals[f"{role}-{ref.agency.lower()}"]
            self._sign_in(session, deciding, at)
            decide(
                session=session,
                principal=deciding,
                inquiry_id=ref.inquiry_id,
                decision=DecisionIn(outcome=action.outcome, reason=reason),
                at=at,
            )
        self.actions += 1
        if action.outcome == "request_info" and self._rng.random() < 0.96:  # some never answer
            later = at + timedelta(days=self._rng.uniform(0.5, 4))
            self.push(trader_hours(self._rng, later), _Reply(ref))

    def _reply(self, action: _Reply) -> None:
        ref = action.inquiry
        at = self._clock.now()
        with transaction(self._factory) as session:
            if _closed(session, ref.declaration_id):
                return
            self._sign_in(session, self._principals[ref.trader], at)
            inquiry = reply(
                session=session,
                principal=self._principals[ref.trader],
                inquiry_id=ref.inquiry_id,
                answer=ReplyIn(message=self._rng.choice(_TRADER_REPLIES)),
                at=at,
            )
        self.actions += 1
        # The reply may move the deadline (the clock paused while the trader had the file).
        self._schedule_answer(replace(ref, due_at=inquiry.due_at), at, after_reply=True)

    def _cancel(self, action: _Cancel) -> None:
        with transaction(self._factory) as session:
            if _closed(session, action.declaration_id):
                return
            self._sign_in(session, self._principals[action.trader], self._clock.now())
            cancel_declaration(
                session=session,
                principal=self._principals[action.trader],
                declaration_id=action.declaration_id,
                at=self._clock.now(),
            )
        self.actions += 1


def _closed(session: Session, declaration_id: int) -> bool:
    """Whether the declaration is closed (cleared, refused, cancelled): then what was planned
    for it is not done. The store says, not a copy kept by the replay: the clock also closes
    declarations (a request for information its trader never answered lapses and refuses
    it, withdrawing the inquiries still open)."""
    status = session.scalar(select(Declaration.status).where(Declaration.id == declaration_id))
    return status not in OPEN_DECLARATION_STATUSES


# -- the entry point -----------------------------------------------------------------------


def load_demo(
    engine: Engine,
    *,
    declarations: int,
    days: int,
    seed: int,
    now: datetime | None = None,
) -> str:
    """Load demo accounts and ``days`` of history up to now; return a printable summary.

    Idempotent: if the demo accounts exist, nothing is loaded. Refused in production,
    because every demo account has the published :data:`DEMO_PASSWORD`. ``now`` defaults to
    the real clock (tests pin it); everything else is fixed by ``seed``.
    """
    if get_settings().env == "production":
        raise DemoRefused(
            "demo data is refused when PANJEREH_ENV=production: "
            "its accounts share a published password"
        )
    if declarations < 0 or days < 1:
        raise ValueError("declarations must be >= 0 and days >= 1")
    _check_catalogue()
    started = time.perf_counter()
    now = (now or SystemClock().now()).astimezone(UTC)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        _, document = rules.active(session=session)
        accounts = demo_accounts({t.agency for t in document.inquiry_types})
        names = [a.username for a in accounts]
        present = session.scalars(select(User.username).where(User.username.in_(names))).all()
        weekends = {
            code: weekend for code, weekend in session.execute(select(Agency.code, Agency.weekend))
        }
    if present:
        header = f"Demo data is already there ({len(present)} demo accounts found); nothing loaded."
        return _summary(factory, header, accounts, now)

    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    start = now - timedelta(days=days)
    clock = ManualClock(start - timedelta(days=1))  # the accounts open the day before
    principals = _open_accounts(factory, accounts, clock.now())
    calendars = _agency_calendars(weekends, start, now)
    homes = {principals[a.username].id: a.province for a in accounts}
    replay = _Replay(
        factory=factory,
        rng=rng,
        clock=clock,
        now=now,
        principals=principals,
        homes=homes,
        calendars=calendars,
    )
    offices = list(OFFICES)
    office_weights = [OFFICES[o].weight for o in offices]
    holidays = calendars.get("IRICA", next(iter(calendars.values()))).holidays
    for at in _filing_times(rng, declarations, start, now, holidays):
        office = rng.choices(offices, office_weights)[0]
        payload, lane = _declaration(rng, office)
        trader = _trader_for(rng, office, lane)
        replay.push(at, _File(payload, trader, cancels=rng.random() < 0.02))
    replay.run()
    elapsed = time.perf_counter() - started
    header = (
        f"Loaded demo data: {declarations} declarations over the {days} days up to "
        f"{now:%Y-%m-%d %H:%M} UTC (seed {seed}), {replay.actions} actions "
        f"in {elapsed:.1f} s."
    )
    return _summary(factory, header, accounts, now)


def _agency_calendars(
    weekends: dict[str, str], start: datetime, now: datetime
) -> dict[str, BusinessCalendar]:
    """The national business calendar of each agency, with its own weekend.

    Officers' answers land in these working hours; the store's closures and holiday
    corrections are left out, which moves a demo answer by a day at most.
    """
    years = range(start.year, now.year + 2)
    built: dict[str, BusinessCalendar] = {}
    for weekend in set(weekends.values()):
        built[weekend] = iran_calendar(years=years, weekend=weekend_from_codes(weekend))
    return {code: built[weekend] for code, weekend in weekends.items()}


def _check_catalogue() -> None:
    """Every code, office and province in the demo data must exist in the reference data."""
    offices, countries = customs_offices(), country_codes()
    for name, lane in LANES.items():
        for good in lane.goods:
            problem = hs_code_problem(good.hs_code)
            if problem:
                raise ValueError(f"demo lane {name}: {good.hs_code}: {problem}")
            if any(origin not in countries for origin, _ in good.origins):
                raise ValueError(f"demo lane {name}: {good.hs_code}: unknown origin country")
    for code, profile in OFFICES.items():
        if code not in offices:
            raise ValueError(f"demo office {code} is not a known customs office")
        for kind, _ in profile.kinds:
            for lane_name, _ in profile.lanes[kind]:
                if lane_name not in LANES:
                    raise ValueError(f"demo office {code}: unknown lane {lane_name}")
    for trader in TRADERS:
        if any(office not in OFFICES for office in trader.offices):
            raise ValueError(f"demo trader {trader.username}: unknown office")
        if offices[trader.offices[0]].province not in provinces():
            raise ValueError(f"demo trader {trader.username}: unknown province")
    for code in OFFICES:
        if not any(code in trader.offices for trader in TRADERS):
            raise ValueError(f"demo office {code} has no trader")


def _open_accounts(
    factory: sessionmaker[Session], accounts: list[DemoAccount], at: datetime
) -> dict[str, Principal]:
    """Create every demo account in one transaction; their principals by username."""
    principals = {}
    shared_hash = hash_password(DEMO_PASSWORD)  # one published password: hash it once
    with transaction(factory) as session:
        for account in accounts:
            user = create_user(
                session=session,
                username=account.username,
                password=DEMO_PASSWORD,
                password_hash=shared_hash,
                role=account.role,
                agency_code=account.agency,
                at=at,
                full_name=account.full_name,
                province=account.province,
            )
            principals[account.username] = principal_of(user)
    return principals


def _summary(
    factory: sessionmaker[Session], header: str, accounts: list[DemoAccount], now: datetime
) -> str:
    """The accounts to sign in with, and what the store now holds."""
    with transaction(factory) as session:
        statuses = dict(
            session.execute(
                select(Declaration.status, func.count()).group_by(Declaration.status)
            ).all()
        )
        places = session.execute(
            select(
                func.count(func.distinct(Declaration.customs_office)),
                func.count(func.distinct(Declaration.province)),
            )
        ).one()
        open_by_agency = Counter[str]()
        overdue_by_agency = Counter[str]()
        rows = session.execute(
            select(Inquiry.agency_code, Inquiry.state, Inquiry.due_at).where(
                Inquiry.state.in_([s.value for s in OPEN_STATES])
            )
        )
        for agency, state, due_at in rows:
            open_by_agency[agency] += 1
            if state == InquiryState.AWAITING_ANSWER and due_at < now:
                overdue_by_agency[agency] += 1
        inquiries = session.scalar(select(func.count()).select_from(Inquiry)) or 0
        events = session.scalar(select(func.count()).select_from(Event)) or 0
        agency_names = dict(session.execute(select(Agency.code, Agency.name_en)).all())
    lines = [header, "", f"Demo accounts (password for every one: {DEMO_PASSWORD}):"]
    lines.append(f"  {'username':<18} {'role':<12} {'agency':<7} {'province':<9} name")
    for a in accounts:
        lines.append(
            f"  {a.username:<18} {a.role.value:<12} {a.agency or '-':<7} "
            f"{a.province or '-':<9} {a.full_name}"
        )
    total = sum(statuses.values())
    by_status = ", ".join(f"{statuses.get(s.value, 0)} {s.value}" for s in DeclarationStatus)
    lines += [
        "",
        f"Declarations: {total} ({by_status}) at {places[0]} customs offices "
        f"in {places[1]} provinces.",
        f"Inquiries: {inquiries}, of which {sum(open_by_agency.values())} open and "
        f"{sum(overdue_by_agency.values())} overdue. Events in the audit chain: {events}.",
        "Open inquiries by agency (overdue):",
    ]
    for code in sorted(open_by_agency):
        lines.append(
            f"  {code:<5} {open_by_agency[code]:>5} ({overdue_by_agency[code]})  "
            f"{agency_names.get(code, '')}"
        )
    return "\n".join(lines)

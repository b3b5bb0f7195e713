"""A directory skeleton of today's structure, built from `vietnam-provinces` rather than typed.

Since 1 July 2025 a province has two levels: the province and its commune-level units (xã,
phường, đặc khu). The skeleton holds the province's People's Committee, its public-administration
service centre, its police and a template of the departments most provinces kept after the 2025
mergers (the operator edits it), then for every commune-level unit its People's Committee, its
public-administration service centre and its police, with the official codes. Today's codes are
prefixed with the province ("51-23500"): a new unit often reuses a predecessor's code. The
header names the service centre as intake and the provincial Inspectorate as inspectorate, as
entries the operator may point elsewhere (intake at the Department of Home Affairs, say).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import vietnam_provinces
import yaml
from vietnam_provinces import Province, VietNamDivisionType, Ward

COMMUNE_KINDS = ("commune", "commune_centre", "commune_police")
"""The kinds of a commune-level unit's People's Committee, service centre and police."""
GROUPS = {
    "departments": ("Sở, ban, ngành", "Provincial departments"),
    "service_centres": (
        "Trung tâm Phục vụ hành chính công",
        "Public administrative service centres",
    ),
    "commune_committees": ("Ủy ban nhân dân cấp xã", "Commune-level People's Committees"),
    "police": ("Công an", "Police"),
}
"""The groups summaries rank agencies in, by the kind of each agency of the skeleton."""
_GROUP_OF = {
    "centre": "service_centres",
    "department": "departments",
    "police": "police",
    COMMUNE_KINDS[0]: "commune_committees",
    COMMUNE_KINDS[1]: "service_centres",
    COMMUNE_KINDS[2]: "police",
}

_ENGLISH = {
    VietNamDivisionType.TINH: "province",
    VietNamDivisionType.THANH_PHO_TRUNG_UONG: "city",
    VietNamDivisionType.XA: "commune",
    VietNamDivisionType.PHUONG: "ward",
    VietNamDivisionType.DAC_KHU: "special zone",
}
_PROVINCE_WORD = {VietNamDivisionType.THANH_PHO_TRUNG_UONG: "thành phố"}
"""A centrally-run city is called "thành phố", not by its full division type."""

DEPARTMENTS = (
    ("SNV", "Sở Nội vụ", "Department of Home Affairs"),
    ("STP", "Sở Tư pháp", "Department of Justice"),
    ("STC", "Sở Tài chính", "Department of Finance"),
    ("SCT", "Sở Công Thương", "Department of Industry and Trade"),
    ("SNNMT", "Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment"),
    ("SXD", "Sở Xây dựng", "Department of Construction"),
    ("SKHCN", "Sở Khoa học và Công nghệ", "Department of Science and Technology"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("SYT", "Sở Y tế", "Department of Health"),
    ("SDTTG", "Sở Dân tộc và Tôn giáo", "Department of Ethnic Minorities and Religion"),
    ("TTR", "Thanh tra", "Inspectorate"),
)
"""The provincial departments most provinces have after the 2025 mergers: a template."""
CENTRE = "TTPVHCC"
"""The code suffix of a public-administration service centre; the province's is the intake."""
INSPECTORATE = "TTR"
"""The code suffix of the provincial Inspectorate, among `DEPARTMENTS`."""


class UnknownProvince(ValueError):
    """No province of today's 34 has the code."""


@dataclass(frozen=True, slots=True)
class Place:
    """A unit's short name ("Đăk Hà") and the word for its type, in Vietnamese and English."""

    short: str
    word_vi: str
    word_en: str

    @classmethod
    def of(cls, name: str, division: VietNamDivisionType) -> Place:
        word = _PROVINCE_WORD.get(division, division.value)
        short = name.removeprefix(f"{word[0].upper()}{word[1:]} ")
        return cls(short, word, _ENGLISH[division])

    @property
    def vi(self) -> str:
        """As written inside a longer name: "xã Đăk Hà"."""
        return f"{self.word_vi} {self.short}"

    @property
    def en(self) -> str:
        return f"{self.short} {self.word_en}"


def unit_code(province: int, unit: int) -> str:
    """Today's code of a commune-level unit: the province's code, then the unit's own."""
    return f"{province:02d}-{unit:05d}"


def scaffold(province_code: int) -> dict[str, Any]:
    """The skeleton of province `province_code` as the directory file's data."""
    try:
        province = Province.from_code(province_code)
    except ValueError as error:
        raise UnknownProvince(str(province_code)) from error
    root = f"{province_code:02d}"
    place = Place.of(province.name, province.division_type)
    wards = sorted(Ward.iter_by_province(province_code), key=lambda w: w.code)
    kinds = sorted({w.division_type for w in wards}, key=list(VietNamDivisionType).index)
    agencies: list[dict[str, Any]] = [
        _agency(root, "Ủy ban nhân dân", "People's Committee", place, "province", None),
        _agency(
            f"{root}-{CENTRE}",
            "Trung tâm Phục vụ hành chính công",
            "Public Administrative Service Centre",
            place,
            "centre",
            root,
        ),
        *(
            {
                "code": f"{root}-{suffix}",
                "name_vi": f"{vi} {place.vi}",
                "name_en": f"{place.short} {en}",
                "kind": "department",
                "parent": root,
                "group": _GROUP_OF["department"],
            }
            for suffix, vi, en in DEPARTMENTS
        ),
        _agency(f"{root}-CA", "Công an", "Police", place, "police", root),
    ]
    for ward in wards:
        code = unit_code(province_code, ward.code)
        unit = Place.of(ward.name, ward.division_type)
        agencies += [
            _agency(code, "Ủy ban nhân dân", "People's Committee", unit, COMMUNE_KINDS[0], root),
            _agency(
                f"{code}-{CENTRE}",
                "Trung tâm Phục vụ hành chính công",
                "Public Administrative Service Centre",
                unit,
                COMMUNE_KINDS[1],
                code,
            ),
            _agency(f"{code}-CA", "Công an", "Police", unit, COMMUNE_KINDS[2], code),
        ]
    return {
        "as_of": date.fromisoformat(vietnam_provinces.__data_version__),
        "province": {"name_vi": place.vi, "name_en": place.en},
        "intake": f"{root}-{CENTRE}",
        "inspectorate": f"{root}-{INSPECTORATE}",
        "levels": [
            {
                "kind": "province",
                "label_vi": "Cơ quan cấp tỉnh",
                "label_en": "Provincial agencies",
                "unit_vi": "cơ quan cấp tỉnh",
                "unit_en": "provincial agency",
            },
            {
                "kind": COMMUNE_KINDS[0],
                "label_vi": "Cơ quan cấp xã",
                "label_en": "Commune-level agencies",
                "unit_vi": _either([k.value for k in kinds], "hoặc"),
                "unit_en": _either([_ENGLISH[k] for k in kinds], "or"),
            },
        ],
        "groups": [
            {"code": code, "label_vi": vi, "label_en": en} for code, (vi, en) in GROUPS.items()
        ],
        "counters": ["centre", COMMUNE_KINDS[1]],
        "agencies": agencies,
        "services": [
            {
                "code": "TTHC-KHAC",
                "name_vi": "Thủ tục hành chính khác",
                "name_en": "Other administrative procedure",
                "sector": "administrative",
                "offered_by": ["centre", "department", "police", *COMMUNE_KINDS],
            }
        ],
    }


def scaffold_yaml(province_code: int, comment: str) -> str:
    """The skeleton as a directory file, `comment` (lines) at its top."""
    lines = "".join(f"# {line}\n".replace("# \n", "#\n") for line in comment.splitlines())
    body = yaml.safe_dump(scaffold(province_code), allow_unicode=True, sort_keys=False, width=110)
    return f"{lines}{body}"


def library_version() -> str:
    """The data the skeleton came from, for that comment."""
    return f"vietnam-provinces {vietnam_provinces.__version__}"


def _agency(
    code: str, vi: str, en: str, place: Place, kind: str, parent: str | None
) -> dict[str, Any]:
    return {
        "code": code,
        "name_vi": f"{vi} {place.vi}",
        "name_en": f"{place.short} {place.word_en.title()} {en}",
        "kind": kind,
        "parent": parent,
        **({"group": _GROUP_OF[kind]} if kind in _GROUP_OF else {}),
    }


def _either(words: list[str], conjunction: str) -> str:
    """ "xã, phường hoặc đặc khu"."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"

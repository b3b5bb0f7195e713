"""Printable QR posters for one-stop desks: the agency's name and a QR code of the Telegram
deep link that opens the rating with that agency (and service) chosen; the Zalo link too when
one is configured. Drawn with matplotlib (DejaVu Sans has every Vietnamese diacritic)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import qrcode
from matplotlib.figure import Figure

from handlers.links import start_link
from handlers.textmatch import fold
from handlers.texts import Texts

A5_INCHES = (5.83, 8.27)


@dataclass(frozen=True, slots=True)
class Poster:
    agency: str
    service: str | None
    telegram_link: str
    zalo_link: str | None


def file_name(agency_code: str, agency: str, service: str | None, suffix: str) -> str:
    """A poster's file name: the desk's code, then its name and the service's, accents
    dropped, so a folder of posters reads as a list of desks."""
    parts = [agency_code, _slug(agency), *([_slug(service)] if service else [])]
    return "_".join(parts) + f".{suffix}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")


def telegram_link(username: str, agency_code: str, service_code: str | None) -> str:
    payload = f"r_{agency_code}" + (f"_{service_code}" if service_code else "")
    return start_link(username, payload)


def _matrix(link: str) -> np.ndarray:
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(link)
    code.make(fit=True)
    return 1 - np.array(code.get_matrix(), dtype=float)


def draw_poster(poster: Poster, t: Texts) -> Figure:
    figure = Figure(figsize=A5_INCHES)
    figure.text(0.5, 0.94, t("poster.title"), ha="center", va="top", fontsize=18, weight="bold")
    name = "\n".join(textwrap.wrap(poster.agency, 34))
    figure.text(0.5, 0.86, name, ha="center", va="top", fontsize=14)
    if poster.service:
        figure.text(
            0.5,
            0.76,
            "\n".join(textwrap.wrap(poster.service, 44)),
            ha="center",
            va="top",
            fontsize=10,
            style="italic",
        )
    codes = [(t("poster.telegram"), poster.telegram_link)]
    if poster.zalo_link:
        codes.append((t("poster.zalo"), poster.zalo_link))
    width = 0.7 if len(codes) == 1 else 0.42
    for index, (label, link) in enumerate(codes):
        left = 0.15 + index * 0.47 if len(codes) > 1 else 0.15
        axes = figure.add_axes((left, 0.24, width, width * A5_INCHES[0] / A5_INCHES[1]))
        axes.imshow(_matrix(link), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes.set_axis_off()
        figure.text(
            left + width / 2, 0.22, label, ha="center", va="top", fontsize=11, weight="bold"
        )
    figure.text(
        0.5,
        0.16,
        "\n".join(textwrap.wrap(t("poster.steps"), 60)),
        ha="center",
        va="top",
        fontsize=9,
    )
    figure.text(0.5, 0.04, poster.telegram_link, ha="center", fontsize=7, color="#444444")
    return figure


def write_poster(poster: Poster, t: Texts, path: Path, dpi: int = 200) -> None:
    """PNG or PDF, by the file's suffix; 200 dots per inch prints sharp on A4."""
    draw_poster(poster, t).savefig(path, dpi=dpi)

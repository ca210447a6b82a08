"""An object-detection API: multipart image uploads of two sizes, with and without the
image echoed back.

    loadforge run scenarios/object_detection.py -u 10 -r 2 -t 1m -H http://127.0.0.1:8000

Targets the demo server's `POST /detect?return_image=true|false`. The images are 24-bit
BMPs (640x480, 1920x1080) generated deterministically at import (no PIL), and each
multipart body is built once, when the plan is built.
"""

import struct

from loadforge import HttpUser, between, get, post


def bmp(width: int, height: int) -> bytes:
    """A deterministic gradient picture as an uncompressed 24-bit BMP."""
    row_size = (width * 3 + 3) & ~3  # rows are padded to 4 bytes
    pixels = row_size * height
    header = struct.pack("<2sIHHI", b"BM", 54 + pixels, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, pixels, 2835, 2835, 0, 0)
    base = bytes((x * 7 + (x // width) * 3) & 0xFF for x in range(width * 3))
    pad = b"\0" * (row_size - width * 3)
    rows = [base[y % 97 :] + base[: y % 97] + pad for y in range(height)]
    return header + info + b"".join(rows)


SMALL = bmp(640, 480)
LARGE = bmp(1920, 1080)


def detect(image: bytes, label: str, return_image: bool) -> object:
    flag = "true" if return_image else "false"
    return post(
        f"/detect?return_image={flag}",
        files={"image": (f"{label}.bmp", image, "image/bmp")},
        name=f"/detect [{label}{', image returned' if return_image else ''}]",
        status=200,
        json_path="detections",
    )


class Detector(HttpUser):
    wait_time = between(0.5, 2)
    tasks = {
        get("/health", status=200): 10,
        detect(SMALL, "640x480", return_image=False): 60,
        detect(SMALL, "640x480", return_image=True): 20,
        detect(LARGE, "1920x1080", return_image=False): 10,
    }


thresholds = ["fail_ratio < 1%", "p95 < 5s"]

#!/usr/bin/env python3
"""Makes src/chart/fonts/NotoSansSC-chart-subset.otf, the font the chart draws with.

Source: Noto Sans CJK SC Regular (SIL OFL 1.1), face 2 of Debian's
fonts-noto-cjk NotoSansCJK-Regular.ttc (`apt-get install fonts-noto-cjk`).
Kept: printable ASCII, common CJK punctuation, the 3,755 characters of
GB 2312 level 1 (the most frequent hanzi), and every character of
knowledge/vocabulary.toml, src/replies.rs and src/chart.rs, so that any
chart label made from the wording and vocabulary has its glyphs. Needs
`pip install fonttools`. Run from the repository root:

    python3 src/chart/fonts/subset-chart-font.py
"""
import pathlib
import subprocess
import sys

SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FACE = 2  # Noto Sans CJK SC
OUT = pathlib.Path("src/chart/fonts/NotoSansSC-chart-subset.otf")

chars = set(chr(c) for c in range(0x20, 0x7F))
chars |= set("，。、：；？！“”‘’（）《》【】—–…·％～＋－×÷→年万亿批件次")
for b1 in range(0xB0, 0xD8):  # GB 2312 level 1
    for b2 in range(0xA1, 0xFF):
        try:
            chars.add(bytes([b1, b2]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
for path in ["knowledge/vocabulary.toml", "src/replies.rs", "src/chart.rs"]:
    p = pathlib.Path(path)
    if p.exists():
        chars |= {c for c in p.read_text(encoding="utf-8") if ord(c) >= 0x2000}

text = "".join(sorted(chars))
subprocess.run(
    [
        sys.executable, "-m", "fontTools.subset", SOURCE,
        f"--font-number={FACE}",
        f"--text={text}",
        f"--output-file={OUT}",
        "--layout-features=kern,palt,vert,locl",
        "--no-hinting",
        "--name-IDs=*",
        "--name-languages=*",
    ],
    check=True,
)
print(f"{OUT}: {len(chars)} characters, {OUT.stat().st_size} bytes")

#!/usr/bin/env python3
"""Makes the format fixtures of tests/formats.rs from one made-up report.

Every fixture is the same short made-up report (fictional figures, written
for these tests, labelled "made-up fixture" in its text), for a year of its
own so that each answer shows which file it came from, converted into one
format or encoding:

    gb18030.txt     2011  GB18030, no BOM
    big5.txt        2012  Big5 (Traditional wording), no BOM
    utf16le.txt     2013  UTF-16LE with BOM
    utf16be.txt     2014  UTF-16BE with BOM
    utf8-bom.txt    2015  UTF-8 with BOM
    page.html       2017  a portal page: navigation, share bars, a related-news
                          list, a link sidebar, a footer and scripts around
                          the article; <title>, <meta> date, canonical link
    page-gbk.html   2010  the same page in GBK, declared by <meta charset>
    report.docx     2018  DOCX (python-docx)
    report.pdf      2019  PDF with an embedded CJK font (fpdf2 and the
                          chart's Noto Sans SC subset), lines of a paragraph
                          cut in the middle of words
    notes.md        2022  Markdown with front matter (url) and markup

and the files that must be refused: binary.bin (a PNG header and NUL
bytes), empty.txt, random.txt (random bytes without NUL), truncated.pdf
(the first half of report.pdf).

Needs `pip install fpdf2 python-docx`. Run from the repository root:

    python3 tests/data/formats/make_fixtures.py
"""
import datetime
import pathlib
import random

OUT = pathlib.Path("tests/data/formats")
FONT = pathlib.Path("src/chart/fonts/NotoSansSC-chart-subset.otf")

# year: (protection measures 万次, detained batches 万批, detained pieces 万件)
FIGURES = {
    2010: ("1.11", "1.02", "2101.5"),
    2011: ("1.23", "1.15", "2210.34"),
    2012: ("1.31", "1.24", "2322.4"),
    2013: ("1.42", "1.33", "2433.56"),
    2014: ("1.53", "1.47", "2544.6"),
    2015: ("1.64", "1.58", "2655.7"),
    2017: ("1.86", "1.79", "2877.9"),
    2018: ("1.97", "1.88", "2988.1"),
    2019: ("2.08", "1.99", "3099.2"),
    2022: ("2.31", "2.22", "3311.4"),
}


def title(year):
    return f"{year}年知识产权海关保护情况（虚构测试文档）"


def paragraphs(year):
    m, b, p = FIGURES[year]
    return [
        "本文是项目自制的虚构测试文档（made-up fixture），数字均为编造，只用于检查文件格式的读取。",
        f"{year}年，全国海关持续加强进出口环节的知识产权保护，全年共实施知识产权保护措施{m}万次，"
        f"实际扣留侵权嫌疑货物{b}万批、{p}万件。",
        "从权利类型看，商标权仍是扣留货物最多的类型；出口环节依然是执法的重点。",
        "海关还与权利人加强合作，帮助企业办理备案并开展维权培训。",
    ]


def published(year):
    return f"{year + 1}-04-2{year % 10}"


def plain_text(year):
    lines = [title(year), f"来源：测试编辑部 {published(year)}", ""]
    for para in paragraphs(year):
        lines += ["　　" + para, ""]
    return "\n".join(lines)


def traditional_text(year):
    m, b, p = FIGURES[year]
    return "\n".join(
        [
            f"{year}年智慧財產權海關保護情況（虛構測試文件）",
            f"來源：測試編輯部 {published(year)}",
            "",
            "　　本文是專案自製的虛構測試文件（made-up fixture），數字均為編造，只用於檢查檔案格式的讀取。",
            "",
            f"　　{year}年，全國海關持續加強進出口環節的智慧財產權保護，全年共實施智慧財產權保護措施{m}萬次，"
            f"實際扣留侵權嫌疑貨物{b}萬批、{p}萬件。",
            "",
            "　　從權利類型看，商標權仍是扣留貨物最多的類型；出口環節依然是執法的重點。",
            "",
        ]
    )


def html_page(year, charset):
    paras = "\n".join(f"<p>　　{p}</p>" for p in paragraphs(year))
    other = year
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta charset="{charset}">
<title>{title(year)}_测试新闻网</title>
<meta name="keywords" content="海关,知识产权">
<meta name="description" content="{year}年海关扣留侵权嫌疑货物9.99万批的虚构摘要">
<meta name="publishdate" content="{published(year)} 09:30:00">
<link rel="canonical" href="https://news.example.org/{year + 1}/content_{year}.htm">
<link rel="stylesheet" href="/css/main.css">
<style>.nav a {{ color: #333; }} .share {{ float: right; }}</style>
<script type="text/javascript">
var pageInfo = {{ title: "{other}年扣留侵权货物6.66万批", channel: "法治" }};
document.write("<div>{other}年扣留侵权货物6.66万批</div>");
</script>
</head>
<body>
<div id="top">
  <div class="logo"><a href="/"><img src="/logo.png" alt="测试新闻网"></a></div>
  <ul class="nav">
    <li><a href="/">首页</a></li><li><a href="/politics/">时政</a></li>
    <li><a href="/law/">法治</a></li><li><a href="/ip/">知识产权</a></li>
    <li><a href="/finance/">财经</a></li><li><a href="/video/">视频</a></li>
  </ul>
</div>
<div class="crumbs"><a href="/">首页</a> &gt; <a href="/law/">法治频道</a> &gt; 正文</div>
<div class="wrap">
  <div class="left">
    <h1>{title(year)}</h1>
    <div class="pages-date">来源：测试编辑部 {published(year)} 09:30
      <span class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></span>
    </div>
    <div class="text_con" id="articleText">
{paras}
      <div class="editor">（责任编辑：测试）</div>
      <div class="bdsharebuttonbox">分享到：<a href="#">朋友圈</a><a href="#">微博</a><a href="#">复制链接</a></div>
    </div>
    <div class="relnews">
      <h3>相关新闻</h3>
      <ul>
        <li><a href="/a/1.htm">某地海关{other}年扣留侵权嫌疑货物8.88万批</a> <span>{published(year)}</span></li>
        <li><a href="/a/2.htm">另一海关{other}年实施保护措施8.77万次</a> <span>{published(year)}</span></li>
        <li><a href="/a/3.htm">知识产权宣传周活动启动</a> <span>{published(year)}</span></li>
      </ul>
    </div>
  </div>
  <div class="right">
    <div class="box2">
      <h3>热点排行</h3>
      <ol>
        <li><a href="/b/1.htm">{other}年全国海关扣留7.77万批侵权货物，较上年大增</a></li>
        <li><a href="/b/2.htm">跨境电商渠道查扣数量创下新高，专家解读原因</a></li>
        <li><a href="/b/3.htm">寄递渠道专项行动成效显著，多地海关通报典型案例</a></li>
        <li><a href="/b/4.htm">春季展会期间知识产权保护服务站正式开放</a></li>
      </ol>
    </div>
  </div>
</div>
<div id="footer">
  <p><a href="/about/">关于我们</a> | <a href="/contact/">联系我们</a> | <a href="/ad/">广告服务</a></p>
  <p>Copyright &copy; {year + 1} 测试新闻网 版权所有 京ICP备00000000号</p>
</div>
<script>(function() {{ var s = document.createElement("script"); s.src = "/stat.js"; }})();</script>
</body>
</html>
"""


def markdown(year):
    m, b, p = FIGURES[year]
    return f"""---
title: {title(year)}
publisher: 测试编辑部
published: {published(year)}
url: https://example.org/made-up/{year}-report
---
# {year}年知识产权海关保护情况

> 虚构测试文档（made-up fixture），数字均为编造。

**{year}年**，全国海关共实施知识产权保护措施{m}万次，实际扣留侵权嫌疑货物**{b}万批**、{p}万件。

- 出口环节依然是执法的重点；
- 详见[说明页](https://example.org/made-up/notes)。
"""


def docx(year, path):
    import docx as python_docx

    document = python_docx.Document()
    document.core_properties.title = title(year)
    document.core_properties.created = datetime.datetime(2026, 1, 1)
    document.add_heading(title(year), level=1)
    document.add_paragraph(f"来源：测试编辑部 {published(year)}")
    first, second, *rest = paragraphs(year)
    document.add_paragraph(first)
    # The figures' paragraph in several runs, one of them bold, as Word writes it.
    para = document.add_paragraph()
    cut = second.index("实际扣留")
    para.add_run(second[:cut])
    para.add_run(second[cut : cut + 6]).bold = True
    para.add_run(second[cut + 6 :])
    for text in rest:
        document.add_paragraph(text)
    document.save(path)


def truetype_font(text, path):
    """The chart's CFF font cut to `text` and converted to TrueType outlines,
    so that fpdf2 embeds it as a CIDFontType2 with Identity-H, as word
    processors do."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(FONT))
    options = subset.Options()
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + " ")
    subsetter.subset(font)
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in font.getGlyphOrder():
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    del font["CFF "]
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = font.getGlyphOrder()
    glyf.glyphs = glyphs
    font["head"].glyphDataFormat = 0
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for key in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                "maxComponentElements"):
        setattr(maxp, key, 0)
    maxp.maxZones = 1
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    font["post"].glyphOrder = font.getGlyphOrder()
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(path))


def pdf(year, path):
    import tempfile
    from fpdf import FPDF

    every = title(year) + f"来源：测试编辑部 {published(year)}" + "".join(paragraphs(year))
    font = pathlib.Path(tempfile.mkdtemp()) / "noto-subset.ttf"
    truetype_font(every, font)

    doc = FPDF(format="A4")
    doc.set_creation_date(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    doc.set_title(title(year))
    doc.add_font("noto", fname=str(font))
    doc.add_page()
    doc.set_font("noto", size=14)
    doc.cell(text=title(year), new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    doc.set_font("noto", size=10)
    doc.cell(text=f"来源：测试编辑部 {published(year)}", new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    per_line = 30  # cuts 侵权嫌疑货物 and a figure across lines
    for para in paragraphs(year):
        for i in range(0, len(para), per_line):
            doc.set_x(doc.l_margin + (8 if i == 0 else 0))  # first-line indent
            doc.cell(text=para[i : i + per_line], new_x="LMARGIN", new_y="NEXT")
        doc.ln(4)
    doc.output(str(path))


def main():
    (OUT / "gb18030.txt").write_bytes(plain_text(2011).encode("gb18030"))
    (OUT / "big5.txt").write_bytes(traditional_text(2012).encode("big5"))
    (OUT / "utf16le.txt").write_bytes(b"\xff\xfe" + plain_text(2013).encode("utf-16-le"))
    (OUT / "utf16be.txt").write_bytes(b"\xfe\xff" + plain_text(2014).encode("utf-16-be"))
    (OUT / "utf8-bom.txt").write_bytes(b"\xef\xbb\xbf" + plain_text(2015).encode("utf-8"))
    (OUT / "page.html").write_bytes(html_page(2017, "utf-8").encode("utf-8"))
    (OUT / "page-gbk.html").write_bytes(html_page(2010, "gbk").encode("gbk"))
    docx(2018, OUT / "report.docx")
    pdf(2019, OUT / "report.pdf")
    (OUT / "notes.md").write_bytes(markdown(2022).encode("utf-8"))

    bad = OUT / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "binary.bin").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (bad / "empty.txt").write_bytes(b"")
    rng = random.Random(11)
    (bad / "random.txt").write_bytes(bytes(rng.randrange(1, 256) for _ in range(4096)))
    whole = (OUT / "report.pdf").read_bytes()
    (bad / "truncated.pdf").write_bytes(whole[: len(whole) // 2])


if __name__ == "__main__":
    main()

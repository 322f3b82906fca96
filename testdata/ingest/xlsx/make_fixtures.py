#!/usr/bin/python3
"""Writes the XLSX fixtures in this folder (see README.md).

Files named lo_*.xlsx are written by LibreOffice Calc from flat ODS sources
built below (the way a user's office suite writes a workbook); the others are
written by hand with zipfile, part by part, to cover what LibreOffice never
writes (inline strings, namespace prefixes, _xHHHH_ escapes, ...).

Needs /usr/bin/python3 with python3-uno and libreoffice-calc-nogui (Debian);
neither is a build dependency of Custos. All personal data here is made up.

    /usr/bin/python3 testdata/ingest/xlsx/make_fixtures.py
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- LibreOffice

FODS_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:automatic-styles>
  <number:date-style style:name="Niso"><number:year number:style="long"/><number:text>-</number:text><number:month number:style="long"/><number:text>-</number:text><number:day number:style="long"/></number:date-style>
  <number:date-style style:name="Ncn"><number:year number:style="long"/><number:text>年</number:text><number:month/><number:text>月</number:text><number:day/><number:text>日</number:text></number:date-style>
  <number:date-style style:name="Ndt"><number:year number:style="long"/><number:text>-</number:text><number:month number:style="long"/><number:text>-</number:text><number:day number:style="long"/><number:text> </number:text><number:hours number:style="long"/><number:text>:</number:text><number:minutes number:style="long"/><number:text>:</number:text><number:seconds number:style="long"/></number:date-style>
  <number:time-style style:name="Ntime"><number:hours number:style="long"/><number:text>:</number:text><number:minutes number:style="long"/><number:text>:</number:text><number:seconds number:style="long"/></number:time-style>
  <number:number-style style:name="Nint"><number:number number:decimal-places="0" number:min-integer-digits="1"/></number:number-style>
  <style:style style:name="iso" style:family="table-cell" style:data-style-name="Niso"/>
  <style:style style:name="cn" style:family="table-cell" style:data-style-name="Ncn"/>
  <style:style style:name="dt" style:family="table-cell" style:data-style-name="Ndt"/>
  <style:style style:name="tm" style:family="table-cell" style:data-style-name="Ntime"/>
  <style:style style:name="int" style:family="table-cell" style:data-style-name="Nint"/>
  <style:style style:name="yellow" style:family="table-cell"><style:table-cell-properties fo:background-color="#ffff00"/></style:style>
  <style:style style:name="B" style:family="text"><style:text-properties fo:font-weight="bold" style:font-weight-asian="bold" fo:color="#c00000"/></style:style>
 </office:automatic-styles>
 <office:body><office:spreadsheet>
"""
FODS_TAIL = """ </office:spreadsheet></office:body>
</office:document>
"""


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def s(text):
    """A string cell."""
    return f'<table:table-cell office:value-type="string"><text:p>{esc(text)}</text:p></table:table-cell>'


def rich(*runs):
    """A string cell of runs: plain str, or ("B", str) for a bold red run."""
    body = "".join(esc(r) if isinstance(r, str) else
                   f'<text:span text:style-name="{r[0]}">{esc(r[1])}</text:span>' for r in runs)
    return f'<table:table-cell office:value-type="string"><text:p>{body}</text:p></table:table-cell>'


def n(value, style=None):
    st = f' table:style-name="{style}"' if style else ""
    return (f'<table:table-cell{st} office:value-type="float" office:value="{value}">'
            f'<text:p>{value}</text:p></table:table-cell>')


def date(iso, style="iso"):
    return (f'<table:table-cell table:style-name="{style}" office:value-type="date" '
            f'office:date-value="{iso}"><text:p>{iso}</text:p></table:table-cell>')


def time_cell(duration, text):
    return (f'<table:table-cell table:style-name="tm" office:value-type="time" '
            f'office:time-value="{duration}"><text:p>{text}</text:p></table:table-cell>')


def empty(count=1, style=None):
    st = f' table:style-name="{style}"' if style else ""
    rep = f' table:number-columns-repeated="{count}"' if count > 1 else ""
    return f"<table:table-cell{st}{rep}/>"


def row(*cells, repeat=1):
    rep = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{rep}>{''.join(cells)}</table:table-row>\n"


def table(name, *rows):
    return f'  <table:table table:name="{esc(name)}">\n{"".join(rows)}  </table:table>\n'


def fods(*tables, null_date=None):
    settings = ""
    if null_date:
        settings = (f'  <table:calculation-settings><table:null-date table:date-value="{null_date}"/>'
                    "</table:calculation-settings>\n")
    return FODS_HEAD + settings + "".join(tables) + FODS_TAIL


CUSTOMERS = [
    row(s("客户编号"), s("姓名"), s("身份证号"), s("手机号"), s("开户网点")),
    row(s("C001"), s("张伟"), s("11010519491231002X"), n(13812345678), s("北京市朝阳区建国路支行")),
    row(s("C002"), s("王芳"), s("440305198502140026"), n(13900139000), s("深圳市南山区科技园支行")),
    row(s("C003"), s("欧阳娜娜"), s("310104197811300047"), s("137 0013 7000"), s("上海市徐汇区支行")),
]

DATES = [
    row(s("类型"), s("值")),
    row(s("iso"), date("1990-03-07")),
    row(s("chinese"), date("1978-11-30", "cn")),
    row(s("datetime"), date("2023-05-06T14:30:15", "dt")),
    row(s("time"), time_cell("PT13H45M00S", "13:45:00")),
    row(s("early"), date("1900-01-15")),
    row(s("number"), n(31477)),
]

LO_FIXTURES = {
    "lo_shared_strings.xlsx": fods(table("客户", *CUSTOMERS)),
    "lo_dates_1900.xlsx": fods(table("日期", *DATES)),
    "lo_dates_1904.xlsx": fods(table("日期", *DATES), null_date="1904-01-01"),
    # Typed into Excel as a number, an 18-digit ID keeps 15 significant digits.
    "lo_id_destroyed.xlsx": fods(table("Sheet1",
        row(s("姓名"), s("身份证号"), s("手机号")),
        row(s("张伟"), n(110105199001011234), n(13812345678)),
        row(s("王芳"), s("11010519491231002X"), n(13900139000)))),
    # Header in row 3 from column B; gaps in rows and cells; formatted but
    # empty rows at the end.
    "lo_sparse.xlsx": fods(table("Sheet1",
        row(empty(), repeat=2),
        row(empty(), s("姓名"), s("手机号"), empty(), s("备注")),
        row(empty(), s("张伟"), empty(), empty(), s("有")),
        row(empty(), repeat=2),
        row(empty(), empty(), n(13812345678)),
        row(empty(), s("李娜"), n(13700137000), s("无表头的列"), s("x")),
        row(empty(), empty(5, "yellow"), repeat=3))),
    "lo_two_sheets.xlsx": fods(
        table("说明", row(s("本文件由测试生成")), row(s("第二张表是客户名单"))),
        table("客户名单", row(s("姓名"), s("手机号")), row(s("张伟"), n(13812345678)))),
    "lo_rich_text.xlsx": fods(table("Sheet1",
        row(s("姓名"), s("备注")),
        row(s("张伟"), rich("普通", ("B", "重要"), "客户")),
        row(rich(("B", "王"), "芳"), s("plain")))),
    # A value in column D of a sheet whose header has three columns.
    "lo_ragged.xlsx": fods(table("Sheet1",
        row(s("姓名"), s("手机号"), s("备注")),
        row(s("张伟"), n(13812345678), s("ok")),
        row(s("王芳"), n(13900139000), s("ok"), s("stray")))),
}

# The same as lo_shared_strings.xlsx, saved with the password "custos".
LO_PASSWORD_FIXTURES = {
    "lo_password_protected.xlsx": (fods(table("客户", *CUSTOMERS)), "custos"),
}


def run_libreoffice(out_dir):
    import uno  # noqa: E402  (python3-uno)
    from com.sun.star.beans import PropertyValue

    def prop(name, value):
        p = PropertyValue()
        p.Name = name
        p.Value = value
        return p

    work = tempfile.mkdtemp(prefix="custos-fixtures-")
    profile = os.path.join(work, "profile")
    pipe = f"custos_fixtures_{os.getpid()}"
    office = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--nologo", "--norestore",
         f"-env:UserInstallation=file://{profile}",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(100):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:  # not up yet
                time.sleep(0.2)
        else:
            sys.exit("LibreOffice did not start")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        jobs = [(name, text, None) for name, text in LO_FIXTURES.items()]
        jobs += [(name, text, pw) for name, (text, pw) in LO_PASSWORD_FIXTURES.items()]
        for name, text, password in jobs:
            src = os.path.join(work, name.replace(".xlsx", ".fods"))
            with open(src, "w", encoding="utf-8") as f:
                f.write(text)
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0,
                                               (prop("Hidden", True),))
            args = [prop("FilterName", "Calc MS Excel 2007 XML"), prop("Overwrite", True)]
            if password:
                # OOXML export encrypts with EncryptionData, which must reach
                # the filter as a typed []NamedValue (hence uno.invoke).
                # LibreOffice 7.4 writes "Standard" (ECMA-376) encryption;
                # its "Agile" export fails.
                from com.sun.star.beans import NamedValue
                secret = [NamedValue(), NamedValue()]
                secret[0].Name, secret[0].Value = "OOXPassword", password
                secret[1].Name, secret[1].Value = "CryptoType", "Standard"
                args.append(prop("EncryptionData",
                                 uno.Any("[]com.sun.star.beans.NamedValue", tuple(secret))))
            uno.invoke(doc, "storeToURL", (uno.systemPathToFileUrl(os.path.join(out_dir, name)),
                                           tuple(args)))
            doc.close(True)
            print("wrote", name)
        try:
            desktop.terminate()
        except Exception:  # the bridge goes away with the process
            pass
    finally:
        try:
            office.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(office.pid, 9)  # its own session: soffice.bin with it
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- by hand

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def content_types(sheets, shared=False, styles=False, workbook="/xl/workbook.xml"):
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = [f'<Override PartName="{workbook}" ContentType="{main}.sheet.main+xml"/>']
    parts += [f'<Override PartName="/{p}" ContentType="{main}.worksheet+xml"/>' for p in sheets]
    if shared:
        parts.append(f'<Override PartName="/xl/sharedStrings.xml" ContentType="{main}.sharedStrings+xml"/>')
    if styles:
        parts.append(f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/>')
    return (DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>' + "".join(parts) + "</Types>")


def write_zip(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
    print("wrote", os.path.basename(path))


def inline_strings():
    """As streaming writers (database and CRM exports) write a sheet: inline
    strings, no shared strings, no styles, cells without r attributes."""
    sheet = (DECL + f"<worksheet {NS}><sheetData>"
             '<row r="1"><c t="inlineStr"><is><t>姓名</t></is></c><c t="inlineStr"><is><t>手机号</t></is></c>'
             '<c t="inlineStr"><is><t>身份证号</t></is></c><c t="inlineStr"><is><t>备注</t></is></c>'
             '<c t="inlineStr"><is><t>标记</t></is></c></row>'
             # rich inline string with a phonetic guide that is not part of the value
             '<row r="2"><c t="inlineStr"><is><r><t>张</t></r><r><rPr><b/></rPr><t>伟</t></r>'
             '<rPh sb="0" eb="1"><t>zhang</t></rPh></is></c>'
             '<c><v>13812345678</v></c>'
             '<c><v>1.10105E+17</v></c>'
             '<c t="inlineStr"><is><t xml:space="preserve">第一行_x000D_\n第二行 </t></is></c>'
             '<c t="b"><v>1</v></c></row>'
             '<row r="3"><c t="str"><f>A2&amp;"!"</f><v>张伟!</v></c>'
             '<c t="e"><v>#N/A</v></c>'
             '<c t="inlineStr"><is><t><![CDATA[<tag> & "quote"]]></t></is></c>'
             '<c t="d"><v>1990-03-07T00:00:00Z</v></c>'
             '<c t="b"><v>0</v></c></row>'
             "</sheetData></worksheet>")
    workbook = (DECL + f"<workbook {NS} {NS_R}><sheets>"
                '<sheet name="导出" sheetId="1" r:id="rId1"/></sheets></workbook>')
    rels = (DECL + f'<Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>")
    root_rels = (DECL + f'<Relationships xmlns="{PKG_REL}">'
                 f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                 "</Relationships>")
    write_zip(os.path.join(HERE, "inline_strings.xlsx"), [
        ("[Content_Types].xml", content_types(["xl/worksheets/sheet1.xml"])),
        ("_rels/.rels", root_rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", rels),
        ("xl/worksheets/sheet1.xml", sheet),
    ])


def prefixed():
    """As the .NET Open XML SDK can write it: every element with an "x:"
    prefix, the workbook part at a non-default path found through
    _rels/.rels, absolute relationship targets, a chart sheet listed first,
    a 1904 workbook with a custom date format, and a shared string with an
    _x005F_ escaped underscore."""
    x = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet = (DECL + f"<x:worksheet {x}><x:sheetData>"
             '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c>'
             '<x:c r="C1" t="s"><x:v>2</x:v></x:c></x:row>\n'
             '<x:row r="2"><x:c r="A2" t="s"><x:v>3</x:v></x:c><x:c r="B2" s="1"><x:v>31477</x:v></x:c>'
             '<x:c r="C2" s="2"><x:v>31477.5</x:v></x:c></x:row>\n'
             "</x:sheetData></x:worksheet>")
    shared = (DECL + f'<x:sst {x} count="4" uniqueCount="4">'
              "<x:si><x:t>姓名</x:t></x:si><x:si><x:t>出生日期</x:t></x:si><x:si><x:t>登记时间</x:t></x:si>"
              "<x:si><x:t>a_x005F_x0041_b</x:t></x:si></x:sst>")
    styles = (DECL + f"<x:styleSheet {x}>"
              '<x:numFmts count="2"><x:numFmt numFmtId="200" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
              '<x:numFmt numFmtId="201" formatCode="[$-804]yyyy/m/d\\ h:mm;@"/></x:numFmts>'
              '<x:cellXfs count="3"><x:xf numFmtId="0"/><x:xf numFmtId="200"/><x:xf numFmtId="201"/></x:cellXfs>'
              "</x:styleSheet>")
    workbook = (DECL + f"<x:workbook {x} {NS_R}><x:workbookPr date1904=\"1\"/><x:sheets>"
                '<x:sheet name="图表" sheetId="2" r:id="R2"/>'
                '<x:sheet name="Data" sheetId="1" r:id="R1"/></x:sheets></x:workbook>')
    rels = (DECL + f'<Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="R1" Type="{REL}/worksheet" Target="/xl/data/main%20sheet.xml"/>'
            f'<Relationship Id="R2" Type="{REL}/chartsheet" Target="/xl/chartsheets/sheet1.xml"/>'
            f'<Relationship Id="R3" Type="{REL}/sharedStrings" Target="/xl/sharedStrings.xml"/>'
            f'<Relationship Id="R4" Type="{REL}/styles" Target="../xl/styles.xml"/>'
            "</Relationships>")
    root_rels = (DECL + f'<Relationships xmlns="{PKG_REL}">'
                 f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="/xl/workbook2.xml"/>'
                 "</Relationships>")
    chart = DECL + f'<x:chartsheet {x}><x:sheetViews/></x:chartsheet>'
    write_zip(os.path.join(HERE, "prefixed_1904.xlsx"), [
        ("[Content_Types].xml", content_types(["xl/data/main sheet.xml"], True, True,
                                              "/xl/workbook2.xml")),
        ("_rels/.rels", root_rels),
        ("xl/workbook2.xml", workbook),
        ("xl/_rels/workbook2.xml.rels", rels),
        ("xl/data/main sheet.xml", sheet),
        ("xl/chartsheets/sheet1.xml", chart),
        ("xl/sharedStrings.xml", shared),
        ("xl/styles.xml", styles),
    ])


def main():
    if "--hand-only" not in sys.argv:
        run_libreoffice(HERE)
    inline_strings()
    prefixed()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a CSV file as a one-sheet XLSX workbook whose every non-empty cell
is a shared string: the worst case for a reader's memory (a 1M-row sample
gives ~7.5M distinct strings). For bench/large_files.sh.

Usage: bench/csv_to_xlsx.py IN.csv OUT.xlsx   (prints the number of strings)
"""
import csv
import sys
import zipfile
from xml.sax.saxutils import escape

src, dst = sys.argv[1], sys.argv[2]

def col(i):
    s=''
    i+=1
    while i: i,r=divmod(i-1,26); s=chr(65+r)+s
    return s
sst={}; order=[]
def si(v):
    k=sst.get(v)
    if k is None:
        k=len(order); sst[v]=k; order.append(v)
    return k
with zipfile.ZipFile(dst,'w',zipfile.ZIP_DEFLATED,compresslevel=1) as z:
    with z.open('xl/worksheets/sheet1.xml','w',force_zip64=True) as f:
        f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        with open(src,encoding='utf-8-sig',newline='') as fh:
            for r,row in enumerate(csv.reader(fh),1):
                parts=['<row r="%d">'%r]
                for c,v in enumerate(row):
                    if v=='': continue
                    parts.append('<c r="%s%d" t="s"><v>%d</v></c>'%(col(c),r,si(v)))
                parts.append('</row>')
                f.write(''.join(parts).encode())
        f.write(b'</sheetData></worksheet>')
    with z.open('xl/sharedStrings.xml','w',force_zip64=True) as f:
        f.write(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'%(len(order),len(order))).encode())
        buf=[]
        for v in order:
            buf.append('<si><t xml:space="preserve">%s</t></si>'%escape(v))
            if len(buf)>10000: f.write(''.join(buf).encode()); buf=[]
        f.write(''.join(buf).encode()); f.write(b'</sst>')
    z.writestr('[Content_Types].xml','<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    z.writestr('_rels/.rels','<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    z.writestr('xl/workbook.xml','<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    z.writestr('xl/_rels/workbook.xml.rels','<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
print(len(order))

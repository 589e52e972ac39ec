"""MkDocs hooks of the documentation site (`mkdocs.yml`: `hooks`)."""
import re, html
from mkdocs.structure.toc import get_toc

_MATHJAX = re.compile(r'<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->', re.S)
_HEADING = re.compile(r'<h([1-6])\s[^>]*?id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)

_DIV = re.compile(r'<(/?)div\b([^>]*)>')

def output_spans(content:str) -> list:
    "`(start, end)` of each cell output area of a rendered notebook page (nested `div`s counted)."
    spans,depth,start = [],0,None
    for m in _DIV.finditer(content):
        if start is None:
            if not m[1] and 'jp-OutputArea-output' in m[2]: start,depth = m.start(),1
        else:
            depth += -1 if m[1] else 1
            if depth == 0: spans.append((start, m.end())); start = None
    return spans

def toc_tokens(content:str) -> list:
    "The table of contents of a rendered page, from its headings as rendered (ids included), nested by level."
    root = {'level': 0, 'children': []}; stack = [root]
    spans = output_spans(content)
    for m in _HEADING.finditer(content):
        level, id_, inner = m.groups()
        # a document shown in an output (a report's `# title`) is not a section of the page; API entries (`###`) are
        if level == '1' and any(a <= m.start() < b for a,b in spans): continue
        name = html.unescape(re.sub(r'<[^>]+>', '', inner)).replace('¶', '').strip()
        tok = {'level': int(level), 'id': id_, 'name': html.escape(name), 'children': []}
        while stack[-1]['level'] >= tok['level']: stack.pop()
        stack[-1]['children'].append(tok); stack.append(tok)
    return root['children']

def on_page_content(content:str, page, config, files) -> str:
    "A notebook page's table of contents built from its rendered headings, so each entry links to its heading's id."
    if page.file.src_uri.endswith('.ipynb'): page.toc = get_toc(toc_tokens(content))
    return content

def on_post_page(output:str, page, config) -> str:
    "Drop the MathJax loader nbconvert's template puts on every notebook page: no page has maths, and it is a CDN script."
    return _MATHJAX.sub('', output)

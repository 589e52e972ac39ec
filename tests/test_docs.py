"The documentation site's own checks catch what they are for (CI runs them on the real site: tools/render_docs.py)."
import importlib.util, sys
import pytest
from conftest import ROOT

def _tool(name):
    "Import a script of tools/ as a module."
    spec = importlib.util.spec_from_file_location(name, ROOT/'tools'/f'{name}.py')
    mod = importlib.util.module_from_spec(spec); sys.modules[name] = mod; spec.loader.exec_module(mod)
    return mod

@pytest.fixture(scope='module')
def docs(): return _tool('render_docs')

def test_anchors_and_links_as_the_site_names_them(docs):
    "nbdev's doc links (lower-case, dotted methods) are rewritten to the ids the site gives headings."
    assert docs.anchor('PairSource.load') == 'pairsourceload' and docs.anchor('AudioConfig') == 'audioconfig'
    md = ("---\n\n[source](/blob/main/s2i_nb/data.py#L40){target=\"_blank\" style=\"float:right\"}\n\n### PairSource\n\n"
          ">      PairSource (pairs:list[__main__.Pair])\n\nSee [`Pair`](http://127.0.0.1:8000/data.html#pair) and "
          "[`PairSource.load`](http://127.0.0.1:8000/data.html#pairsource.load).")
    out = docs._site_md(md, 'http://127.0.0.1:8000/', '/blob/main/')
    assert '<div class="doc-source"><a href="source/data.html#L-0-40">source</a></div>\n\n### PairSource' in out
    assert '__main__.' not in out and '(data.html#pair)' in out and '(data.html#pairsourceload)' in out
    prose = "Open http://127.0.0.1:8000/ and see [`Pair`](http://127.0.0.1:8000/data.html#pair)."
    assert docs._site_md(prose, 'http://127.0.0.1:8000/', '/') == "Open http://127.0.0.1:8000/ and see [`Pair`](data.html#pair)."


def test_site_check_finds_broken_links_and_bad_output(docs, tmp_path):
    "A missing page, a missing anchor, `__main__.` in a signature and a stderr block are each reported."
    (tmp_path/'a.html').write_text('<h2 id="here">x</h2><a href="b.html#there">b</a><a href="a.html#here">a</a>'
                                   '<a href="missing.html">m</a><a href="https://example.org/x">ext</a>'
                                   '<pre>f(x:__main__.Pair)</pre>')
    (tmp_path/'b.html').write_text('<div data-mime-type="application/vnd.jupyter.stderr">UserWarning</div>'
                                   '<script src="https://cdn.example.org/x.js"></script><a href="/a.html#here">up</a>')
    problems = docs.check_site(tmp_path, docs.read_pages(tmp_path))
    assert sorted(problems) == sorted(['a.html: `__main__.` in a signature', 'a.html: no anchor for b.html#there',
                                       'a.html: broken link missing.html', 'b.html: 1 warning/stderr output block(s)',
                                       'b.html: loads https://cdn.example.org/x.js from outside the site'])

def test_table_of_contents_from_rendered_headings():
    "The hook nests headings by level and keeps their ids, so every TOC entry lands on its heading."
    hooks = _tool('docs_hooks')
    toc = hooks.toc_tokens('<h1 id="t">Title</h1><h2 id="a">A<a href="#a">¶</a></h2><h3 id="pairsourceload">'
                           '<code>PairSource.load</code></h3><h2 id="b">B &amp; C</h2>')
    assert [(t['id'], t['level']) for t in toc] == [('t', 1)]
    assert [(t['id'], t['name']) for t in toc[0]['children']] == [('a', 'A'), ('b', 'B &amp; C')]
    assert toc[0]['children'][0]['children'][0]['name'] == 'PairSource.load'

def test_table_of_contents_skips_titles_shown_in_outputs():
    "A document displayed in a cell's output (a report's `# title`) is not a section: the sections after it stay top-level."
    hooks = _tool('docs_hooks')
    out = ('<div class="jp-RenderedMarkdown jp-OutputArea-output"><div><h1 id="report">Report</h1></div>'
           '<h3 id="entry">An API entry</h3></div>')
    toc = hooks.toc_tokens(f'<h1 id="t">T</h1><h2 id="a">A</h2>{out}<h2 id="b">B</h2>')
    assert [t['id'] for t in toc] == ['t']
    assert [t['id'] for t in toc[0]['children']] == ['a', 'b']
    assert [t['id'] for t in toc[0]['children'][0]['children']] == ['entry']   # show_doc's entries stay
    assert hooks.output_spans(out) == [(0, len(out))]

def test_readme_has_no_link_inside_a_link():
    "A name linked by hand in index.ipynb is not linked again by nbdev's doc linker (`[[`name`](...)](...)`)."
    import re
    nested = re.findall(r'\[\[`[^`]+`\]\([^)]*\)\]\([^)]*\)', (ROOT/'README.md').read_text())
    assert not nested, f"README.md has a link inside a link (write the name bare in nbs/index.ipynb): {nested[:3]}"

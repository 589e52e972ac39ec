#!/usr/bin/env python
"""Build the documentation site and README.md from the notebooks, without Quarto.

nbdev builds its documentation site with Quarto (`nbdev_docs`, `nbdev_preview`); where Quarto can be installed,
that path works as it is. Where it cannot, one command builds the site:

    .venv/bin/python tools/render_docs.py

It runs `nbdev_proc_nbs` (nbdev's own processing for Quarto, into `_proc/`: front matter, `show_doc` for every
exported symbol, hidden cells removed), with a stand-in `quarto` on the PATH so that nbdev does not try to install
Quarto; writes README.md from `nbs/index.ipynb` (as `nbdev_readme` would); prepares each processed notebook for the
site (nbdev's directives, relative links, anchors as the site names them, each `source` link beside its heading,
pointing at the package's own source pages); and builds the site into `_docs/` with MkDocs, Material for MkDocs and
mkdocs-jupyter (`mkdocs.yml`). Then it checks the site as a reader meets it: every `href` and `src` on every page
resolves (file and anchor), no signature shows `__main__.`, no output block is a warning or other stderr text, and
every exported symbol has its entry on the page nbdev's index names. Any failure exits with status 1, so CI fails.
"""
import os, re, sys, shutil, inspect, importlib, subprocess, tempfile, warnings, argparse
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, unquote
import yaml, nbformat
from nbconvert import MarkdownExporter
from traitlets.config import Config
from nbformat.validator import MissingIDFieldWarning
warnings.filterwarnings('ignore', category=MissingIDFieldWarning)  # nbdev_clean drops cell ids on purpose
from nbdev.config import get_config
from mkdocs_jupyter.utils import slugify

_QUARTO_ATTRS = re.compile(r'(\[[^\]]*\]\([^)]*\))\{[^}]*\}')
_SOURCE_LINK = re.compile(r'\[source\]\((?P<url>[^)]*)\)\s*\n+(?P<head>#+ .*)')
_PAGE_LINK = re.compile(r'\]\((?P<page>[\w./-]*\.html)#(?P<anchor>[^)\s]+)\)')

def anchor(name:str) -> str:
    "The id the site gives a heading (mkdocs-jupyter's slug): `PairSource.load` -> `pairsourceload`."
    return re.sub(r'\s', '-', slugify(name))

def proc_nbs(cfg):
    "Run `nbdev_proc_nbs` with a stand-in `quarto` that fails loudly if anything really calls it."
    with tempfile.TemporaryDirectory() as stub:
        q = Path(stub)/'quarto'
        q.write_text('#!/bin/sh\necho "quarto: not installed (tools/render_docs.py builds the site)" >&2\nexit 1\n')
        q.chmod(0o755)
        shutil.rmtree(cfg.config_path/'_proc', ignore_errors=True)
        env = {**os.environ, 'PATH': f"{stub}{os.pathsep}{os.environ['PATH']}"}
        exe = Path(sys.executable).parent/'nbdev_proc_nbs'
        subprocess.run([str(exe) if exe.exists() else 'nbdev_proc_nbs'], env=env, check=True, cwd=cfg.config_path)

def _front_matter(nb) -> dict:
    "Pop nbdev's YAML front-matter raw cell and return it as a dict."
    if nb.cells and nb.cells[0].cell_type == 'raw' and nb.cells[0].source.startswith('---'):
        return yaml.safe_load(nb.cells.pop(0).source.strip().strip('-')) or {}
    return {}

def _site_md(md:str, site_url:str, source_url:str) -> str:
    "Markdown as the site shows it: relative links, the site's anchors, `source` links beside their headings."
    md = _QUARTO_ATTRS.sub(r'\1', md)   # show_doc's `[source](url){target=...}`: Quarto-only attributes
    if site_url: md = md.replace(f"]({site_url}", "](")   # nbdev's doc links, not the address in the prose
    md = md.replace('__main__.', '')    # classes of the notebook being processed, as show_doc prints them
    md = _PAGE_LINK.sub(lambda m: f"]({m['page']}#{anchor(unquote(m['anchor']))})", md)
    def _beside(m):
        url = m['url']
        if url.startswith(source_url):  # `.../blob/main/s2i_nb/data.py#L27` -> the site's page of that module
            mod, _, line = url[len(source_url):].partition('#L')
            url = f"source/{Path(mod).stem}.html" + (f"#L-0-{line}" if line else '')  # pymdownx's line ids
        return f'<div class="doc-source"><a href="{url}">source</a></div>\n\n{m["head"]}'
    return _SOURCE_LINK.sub(_beside, md)

_ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')

def _shown(o) -> bool:
    "Whether a stored output belongs on a static page: not a live widget, not a progress bar's control codes."
    if 'application/vnd.jupyter.widget-view+json' in o.get('data', {}): return False   # only `VBox(...)` text here
    return not (o.get('output_type') == 'stream' and not _ANSI.sub('', ''.join(o.get('text', ''))).strip())

def _prep(nb, site_url:str, source_url:str):
    "Apply nbdev's cell directives and the site's link rules to every cell of a processed notebook."
    for c in nb.cells:
        if c.cell_type == 'markdown': c.source = _site_md(c.source, site_url, source_url)
        if c.cell_type != 'code': continue
        lines = c.source.splitlines()
        dirs = [l for l in lines if l.startswith('#|')]
        c.source = '\n'.join(l for l in lines if not l.startswith('#|'))
        if any(re.match(r'#\|\s*echo:\s*false', d) for d in dirs): c.metadata.setdefault('tags', []).append('remove_input')
        if any(re.match(r'#\|\s*output:\s*false', d) for d in dirs): c.outputs = []   # Quarto's directive
        c.outputs = [o for o in c.get('outputs', []) if _shown(o)]
        for o in c.outputs:
            if md := o.get('data', {}).get('text/markdown'): o['data']['text/markdown'] = _site_md(md, site_url, source_url)

def load(nb_path:Path, cfg, default_title:str):
    "Read a processed notebook, turn its front matter into a title cell and prepare it for the site."
    nb = nbformat.read(nb_path, as_version=4)
    fm = _front_matter(nb)
    head = f"# {fm.get('title', default_title)}\n\n" + (f"> {fm['description']}\n" if fm.get('description') else '')
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(head))
    _prep(nb, site_url(cfg), f"{cfg.git_url}/blob/{cfg.branch}/")
    return nb, fm

def site_url(cfg) -> str:
    "The address nbdev writes before every doc link (`doc_host` + `doc_baseurl`)."
    return f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip('/') + '/'

def readme(proc:Path, cfg) -> Path:
    "Write README.md (and its figures in `index_files/`) from the processed `readme_nb`, as `nbdev_readme` does."
    nb,_ = load(proc/cfg.readme_nb, cfg, cfg.lib_name)
    c = Config(); c.TagRemovePreprocessor.enabled = True; c.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    files = Path(cfg.readme_nb).stem + '_files'
    body,res = MarkdownExporter(config=c).from_notebook_node(nb, resources={'output_files_dir': files})
    body = re.sub(r'<div class="doc-source">.*?</div>\n\n', '', body)
    (cfg.config_path/files).mkdir(exist_ok=True)
    for name,data in res.get('outputs', {}).items(): (cfg.config_path/name).write_bytes(data)
    (out := cfg.config_path/'README.md').write_text(body, encoding='utf-8')
    return out

def page_name(nb_path:Path) -> str:
    "The site's page of a notebook, as nbdev's doc links name it: `04_data.ipynb` -> `data`."
    return re.sub(r'^\d+[a-z]?_', '', nb_path.stem)

def source_pages(cfg, src:Path) -> list:
    "One page per module with its code and line anchors (`source/data.html#L-0-27`), the target of `source` links."
    out = src/'source'; out.mkdir(parents=True, exist_ok=True)
    mods = sorted(p for p in cfg.lib_path.glob('*.py') if not p.name.startswith('_'))
    for p in mods:
        (out/f"{p.stem}.md").write_text(f"# {cfg.lib_name}/{p.name}\n\n```python linenums=\"1\"\n"
                                        f"{p.read_text(encoding='utf-8')}\n```\n", encoding='utf-8')
    return mods

def prepare(cfg, proc:Path, src:Path) -> list:
    "Write the site's sources into `src`: prepared notebooks, figures, styles, source pages; return the nav."
    shutil.rmtree(src, ignore_errors=True); src.mkdir()
    nbs = sorted(p for p in proc.glob('*.ipynb'))
    nbs = [p for p in nbs if p.name == cfg.readme_nb] + [p for p in nbs if p.name != cfg.readme_nb]  # home first
    nav = []
    for p in nbs:
        nb,fm = load(p, cfg, page_name(p))
        name = 'index' if p.name == cfg.readme_nb else page_name(p)
        nbformat.write(nb, src/f"{name}.ipynb")
        nav.append({('Home' if name == 'index' else fm.get('title', name)): f"{name}.ipynb"})
    if (proc/'images').is_dir(): shutil.copytree(proc/'images', src/'images')
    shutil.copy(Path(__file__).with_name('site.css'), src/'site.css')
    source_pages(cfg, src)
    return nav

def build_site(cfg, nav:list):
    "Build the site with MkDocs from `mkdocs.yml`, with the page list in notebook order."
    from mkdocs.config import load_config
    from mkdocs.commands.build import build
    build(load_config(str(cfg.config_path/'mkdocs.yml'), nav=nav))

class _Page(HTMLParser):
    "The ids, links, signatures and output blocks of one HTML page."
    def __init__(self):
        super().__init__(); self.ids, self.links, self.stderr = set(), [], 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ('id', 'name'):
            if a.get(k): self.ids.add(a[k])
        for k in ('href', 'src'):
            if a.get(k) is not None and a.get('rel') != 'canonical': self.links.append((tag, a[k]))  # canonical: a name
        if a.get('data-mime-type') == 'application/vnd.jupyter.stderr': self.stderr += 1

def read_pages(site:Path) -> dict:
    "Every page of the site, parsed once: `{path: _Page}`, each also knowing whether its text shows `__main__.`."
    pages = {}
    for f in sorted(site.rglob('*.html')):
        text = f.read_text(encoding='utf-8'); pg = pages[f.resolve()] = _Page(); pg.feed(text)
        pg.main = '__main__.' in text
    return pages

def check_site(site:Path, pages:dict) -> list:
    "Every link of every page resolves (file and anchor); no `__main__.`, no stderr block, nothing loaded from outside."
    problems, root = [], site.resolve()
    for f,pg in pages.items():
        rel = f.relative_to(root)
        if pg.main: problems.append(f"{rel}: `__main__.` in a signature")
        if pg.stderr: problems.append(f"{rel}: {pg.stderr} warning/stderr output block(s)")
        for tag,link in pg.links:
            u = urlsplit(link)
            if u.scheme in ('http', 'https') or link.startswith('//'):
                if tag in ('script', 'link', 'img', 'iframe'): problems.append(f"{rel}: loads {link} from outside the site")
                continue   # a link to another site is the reader's to follow (no internet here to check it)
            if u.scheme in ('mailto', 'data', 'javascript'): continue
            base = root if u.path.startswith('/') else f.parent   # `/x`: from the site's root (404 page)
            target = (base/unquote(u.path).lstrip('/')).resolve() if u.path else f
            if target.is_dir(): target = target/'index.html'
            if not target.exists(): problems.append(f"{rel}: broken link {link}"); continue
            if u.fragment and target.suffix == '.html' and unquote(u.fragment) not in pages[target].ids:
                problems.append(f"{rel}: no anchor for {link}")
    return problems

def check_show_docs(cfg, site:Path, pages:dict) -> list:
    "Every exported function and class must have its heading on the page nbdev's index links it to."
    modidx = importlib.import_module(f"{cfg.lib_path.name}._modidx").d['syms']
    missing = []
    for mod, syms in modidx.items():
        m = importlib.import_module(mod)
        for name in getattr(m, '__all__', []):
            if not (inspect.isfunction(obj := getattr(m, name)) or inspect.isclass(obj) or callable(getattr(obj, '__wrapped__', None))): continue  # constants get no show_doc
            url = syms.get(f"{mod}.{name}", [None])[0]
            if url is None: missing.append(f"{mod}.{name}: not in _modidx"); continue
            page = (site/url.split('#')[0]).resolve()
            if page not in pages or anchor(name) not in pages[page].ids:
                missing.append(f"{mod}.{name}: no entry (#{anchor(name)}) in {page.name}")
    return missing

def browser_check(site:Path, query:str='FeatureStore') -> list:
    "Open the site in headless Chromium over http: the index has its sidebar, an API page finds `query` in search."
    import http.server, threading, functools
    from playwright.sync_api import sync_playwright
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    if not exe: return ["no Chromium to check the site in (Debian: apt-get install chromium)"]
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url, problems = f"http://127.0.0.1:{server.server_address[1]}/", []
    args = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run']
    try:
        with sync_playwright() as p:
            page = p.chromium.launch(executable_path=exe, args=args).new_page(viewport={'width': 1400, 'height': 900})
            page.goto(url + 'index.html')
            titles = page.locator('nav.md-nav--primary .md-nav__link').all_inner_texts()
            if not any('Data: pair sources' in t for t in titles): problems.append(f"index.html: no sidebar entry for the data page ({titles[:5]})")
            page.goto(url + 'data.html')
            if page.locator('nav.md-nav--secondary a[href="#pairsource"]').count() == 0:
                problems.append("data.html: its table of contents has no PairSource entry")
            page.locator('label.md-search__icon, .md-search__input').first.click()
            page.locator('input.md-search__input').fill(query)
            hits = page.locator('.md-search-result__item')
            try: hits.first.wait_for(timeout=30_000)
            except Exception: problems.append(f"data.html: searching {query!r} found nothing")
            else: print(f"browser check: sidebar with {len(titles)} links; search {query!r}: {hits.count()} results")
    finally: server.shutdown()
    return problems

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--no-proc', action='store_true', help="reuse `_proc/` from an earlier `nbdev_proc_nbs`")
    ap.add_argument('--browser', action='store_true', help="also open the site in headless Chromium (Playwright)")
    args = ap.parse_args()
    cfg = get_config()
    if not args.no_proc: proc_nbs(cfg)
    proc, src, site = cfg.config_path/'_proc', cfg.config_path/'_docs_src', cfg.doc_path
    if not (proc/cfg.readme_nb).exists(): sys.exit(f"no processed notebooks in {proc}: run nbdev_proc_nbs first")
    print(f"wrote {readme(proc, cfg).name} from {cfg.readme_nb}")
    nav = prepare(cfg, proc, src)
    build_site(cfg, nav)
    pages = read_pages(site)
    problems = check_site(site, pages) + check_show_docs(cfg, site, pages)
    if args.browser: problems += browser_check(site)
    for p in problems: print(f"FAILED {p}", file=sys.stderr)
    if problems: sys.exit(1)
    print(f"{len(nav)} pages in {site}: every link resolves, every exported symbol has its entry")

if __name__ == '__main__': main()

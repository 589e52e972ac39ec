#!/usr/bin/env python
"""Render the documentation to static HTML without Quarto.

nbdev builds this project's documentation site with Quarto (`nbdev_docs`, `nbdev_preview`). Where
Quarto cannot be installed, run

    nbdev_proc_nbs && python tools/render_docs.py

`nbdev_proc_nbs` processes the notebooks as nbdev does for Quarto (into `_proc/`: front matter,
`show_doc` for every exported symbol, hidden cells removed). This script writes README.md from
`nbs/index.ipynb` (as `nbdev_readme` would) and renders each processed
notebook to one HTML page in the docs folder (`doc_path` in settings.ini, `_docs/`) with nbconvert,
honouring nbdev's `echo: false` directive, and checks that every exported symbol of every module has
its `show_doc` entry on its page. It exits with status 1 if a page fails to render or a symbol is
missing, so CI fails.
"""
import re, sys, html, inspect, importlib, warnings
from pathlib import Path
import yaml, nbformat
from nbconvert import HTMLExporter, MarkdownExporter
from traitlets.config import Config
from nbformat.validator import MissingIDFieldWarning
warnings.filterwarnings('ignore', category=MissingIDFieldWarning)  # nbdev_clean drops cell ids on purpose
from nbdev.config import get_config

_QUARTO_ATTRS = re.compile(r'(\[[^\]]*\]\([^)]*\))\{[^}]*\}')

def _front_matter(nb) -> dict:
    "Pop nbdev's YAML front-matter raw cell and return it as a dict."
    if nb.cells and nb.cells[0].cell_type == 'raw' and nb.cells[0].source.startswith('---'):
        fm = yaml.safe_load(nb.cells.pop(0).source.strip().strip('-')) or {}
        return fm
    return {}

def _load(nb_path:Path, site_url:str, default_title:str):
    "Read a processed notebook, turn its front matter into a title cell and apply nbdev's directives."
    nb = nbformat.read(nb_path, as_version=4)
    fm = _front_matter(nb)
    head = f"# {fm.get('title', default_title)}\n\n" + (f"> {fm['description']}\n" if fm.get('description') else '')
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(head))
    _prep(nb, site_url)
    return nb, fm

def _config() -> Config:
    "nbconvert settings: drop the inputs that nbdev marks `echo: false`."
    c = Config(); c.TagRemovePreprocessor.enabled = True; c.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    c.TemplateExporter.exclude_input_prompt = True; c.TemplateExporter.exclude_output_prompt = True
    return c

def _prep(nb, site_url:str):
    "Apply nbdev's cell directives for HTML: drop `#|` lines, hide inputs marked `echo: false`."
    for c in nb.cells:
        if c.cell_type == 'markdown' and site_url: c.source = c.source.replace(site_url, '')
        if c.cell_type != 'code': continue
        lines = c.source.splitlines()
        dirs = [l for l in lines if l.startswith('#|')]
        c.source = '\n'.join(l for l in lines if not l.startswith('#|'))
        if any(re.match(r'#\|\s*echo:\s*false', d) for d in dirs): c.metadata.setdefault('tags', []).append('remove_input')
        for o in c.get('outputs', []):
            md = o.get('data', {}).get('text/markdown')
            if not md: continue
            md = _QUARTO_ATTRS.sub(r'\1', md)   # show_doc's `[source](url){target=...}`: Quarto-only attributes
            o['data']['text/markdown'] = md.replace(site_url, '') if site_url else md

def render(nb_path:Path, out_dir:Path, site_url:str, nav:str) -> Path:
    "Render one processed notebook to HTML; return the page path."
    nb,fm = _load(nb_path, site_url, nb_path.stem)
    body,_ = HTMLExporter(config=_config(), template_name='lab').from_notebook_node(nb, resources={'metadata': {'name': fm.get('title', nb_path.stem)}})
    body = re.sub(r'(<body[^>]*>)', r'\1' + nav, body, count=1)
    page = out_dir/fm.get('output-file', re.sub(r'^\d+_', '', nb_path.stem) + '.html')
    page.write_text(body, encoding='utf-8')
    return page

def readme(proc:Path, cfg, site_url:str) -> Path:
    "Write README.md (and its figures in `index_files/`) from the processed `readme_nb`, as `nbdev_readme` does."
    nb,_ = _load(proc/cfg.readme_nb, site_url, cfg.lib_name)
    files = Path(cfg.readme_nb).stem + '_files'
    body,res = MarkdownExporter(config=_config()).from_notebook_node(nb, resources={'output_files_dir': files})
    (cfg.config_path/files).mkdir(exist_ok=True)
    for name,data in res.get('outputs', {}).items(): (cfg.config_path/name).write_bytes(data)
    readme = cfg.config_path/'README.md'
    readme.write_text(body, encoding='utf-8')
    return readme

def check_show_docs(cfg, out_dir:Path) -> list:
    "Every exported function and class must have a `show_doc` heading on the page nbdev's index links it to."
    modidx = importlib.import_module(f"{cfg.lib_path.name}._modidx").d['syms']
    missing = []
    for mod, syms in modidx.items():
        m = importlib.import_module(mod)
        for name in getattr(m, '__all__', []):
            if not (inspect.isfunction(obj := getattr(m, name)) or inspect.isclass(obj) or callable(getattr(obj, '__wrapped__', None))): continue  # constants get no show_doc
            url = syms.get(f"{mod}.{name}", [None])[0]
            if url is None: missing.append(f"{mod}.{name}: not in _modidx"); continue
            page = out_dir/url.split('#')[0]
            text = page.read_text(encoding='utf-8') if page.exists() else ''
            if not re.search(rf'<h[1-6][^>]*>\s*{re.escape(name)}\b', text):
                missing.append(f"{mod}.{name}: no show_doc heading in {page.name}")
    return missing

def main():
    cfg = get_config()
    proc, out_dir = cfg.config_path/'_proc', cfg.doc_path
    nbs = sorted(p for p in proc.rglob('*.ipynb') if not any(part.startswith(('_','.')) for part in p.relative_to(proc).parts))
    if not nbs: sys.exit(f"no processed notebooks in {proc}: run nbdev_proc_nbs first")
    out_dir.mkdir(parents=True, exist_ok=True)
    site_url = f"{cfg.doc_host}{cfg.doc_baseurl}/"
    names = [(re.sub(r'^\d+[a-z]?_', '', p.stem), p) for p in nbs]
    nav = '<nav style="padding:.5rem 1rem;border-bottom:1px solid #ddd">' + ' | '.join(
        f'<a href="{n}.html">{html.escape(n)}</a>' for n,_ in names) + '</nav>'
    failed = []
    for _,p in names:
        try: print(f"rendered {render(p, out_dir, site_url, nav).relative_to(cfg.config_path)}")
        except Exception as e: failed.append(f"{p.name}: {type(e).__name__}: {e}")
    failed += check_show_docs(cfg, out_dir)
    print(f"wrote {readme(proc, cfg, site_url).name} from {cfg.readme_nb}")
    for f in failed: print(f"FAILED {f}", file=sys.stderr)
    if failed: sys.exit(1)
    print(f"{len(names)} pages in {out_dir}; every exported symbol documented")

if __name__ == '__main__': main()

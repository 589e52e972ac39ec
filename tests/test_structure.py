"The package's shape: an acyclic module graph in notebook order, imports at the top, one place that names networks."
import ast, re
from pathlib import Path
import pytest
from conftest import ROOT

PKG = ROOT/'s2i_nb'
MODULES = {p.stem: p for p in sorted(PKG.glob('*.py')) if p.stem not in ('__init__', '_modidx')}

def _trees() -> dict:
    return {m: ast.parse(p.read_text(), str(p)) for m,p in MODULES.items()}

def _target(node:ast.AST) -> list:
    "The s2i_nb modules an import statement names (relative or absolute)."
    if isinstance(node, ast.ImportFrom):
        if node.level == 1: base = node.module or ''
        elif node.module and node.module.startswith('s2i_nb'): base = node.module[len('s2i_nb'):].lstrip('.')
        else: return []
        if base: return [base.split('.')[0]]
        return [a.name for a in node.names]   # `from . import x`
    if isinstance(node, ast.Import):
        return [a.name.split('.')[1] for a in node.names if a.name.startswith('s2i_nb.')]
    return []

def import_graph() -> dict:
    "`{module: {imported s2i_nb modules}}`, imports inside functions included."
    return {m: {t for n in ast.walk(tree) for t in _target(n) if t in MODULES and t != m} for m,tree in _trees().items()}

def find_cycle(graph:dict):
    "A cycle of the graph as a list of modules, or None."
    state,stack = {},[]
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 'open': return stack[stack.index(n):] + [n]
            if n not in state and (c := visit(n)): return c
        state[m] = 'done'; stack.pop()
    for m in sorted(graph):
        if m not in state and (c := visit(m)): return c

def test_find_cycle_finds_one():
    "The checker itself: a planted cycle is found, an acyclic graph passes."
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b'}, 'b': set(), 'c': {'a', 'b'}}) is None

def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"

def _notebook_number(m:str) -> tuple:
    "Where a module's notebook stands in the order: `06_networks` -> (6, ''), `06a_natural` -> (6, 'a')."
    n,suffix = re.search(r'File to edit: \.\./nbs/(\d+)([a-z]?)_', MODULES[m].read_text()).groups()
    return int(n), suffix

def test_imports_point_down_the_notebook_order():
    "A module imports only modules exported by earlier notebooks (the story reads in order)."
    bad = [(m, n) for m,deps in import_graph().items() for n in deps if _notebook_number(n) >= _notebook_number(m)]
    assert not bad, f"modules importing later notebooks' modules: {bad}"

def test_package_imports_at_the_top():
    "No module imports another module of the package inside a function (that would hide a cycle)."
    inner = []
    for m,tree in _trees().items():
        for f in ast.walk(tree):
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner += [(m, f.name, t) for n in ast.walk(f) for t in _target(n) if t in MODULES]
    assert not inner, f"package imports inside functions: {inner}"

def test_only_the_registry_names_networks():
    "No module but the presets' plugins (which register the names), core and the registry compares network names or spells a digit network's name."
    from s2i_nb.core import PLUGINS, load_plugins
    from s2i_nb.networks import EXTRACTORS, CLASSIFIERS
    load_plugins()
    names = set(EXTRACTORS) | set(CLASSIFIERS)
    is_name = lambda n: isinstance(n, ast.Constant) and isinstance(n.value, str) and (n.value in names or n.value.startswith('digits'))
    found = []
    for m,tree in _trees().items():
        if m in ('core', 'networks') or f's2i_nb.{m}' in PLUGINS: continue
        exported = {id(c) for a in ast.walk(tree) if isinstance(a, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in a.targets)
                    for c in ast.walk(a)}   # `__all__` spells function names such as `digits_images`
        for n in ast.walk(tree):
            if isinstance(n, ast.Compare) and any(is_name(o) for o in [n.left, *n.comparators]): found.append((m, n.lineno, 'compares'))
            if isinstance(n, ast.Call) and getattr(n.func, 'attr', '') in ('startswith', 'endswith') and n.args and is_name(n.args[0]):
                found.append((m, n.lineno, f"{n.func.attr}({n.args[0].value!r})"))
            if id(n) not in exported and isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith('digits_'):
                found.append((m, n.lineno, n.value))
    assert not found, f"network names outside the registry: {found}"

def test_the_name_check_catches_a_comparison(tmp_path, monkeypatch):
    "The checker itself: a module that compares a network name is caught."
    (tmp_path/'bad.py').write_text("def f(cfg):\n    if cfg.features.sound_extractor == 'soundnet_pool5': return 1\n")
    monkeypatch.setattr(__import__(__name__), 'MODULES', {'bad': tmp_path/'bad.py'})
    with pytest.raises(AssertionError, match='compares'): test_only_the_registry_names_networks()

@pytest.mark.parametrize('m', sorted(MODULES))
def test_module_size(m):
    "Modules small enough to read in one sitting."
    n = len(MODULES[m].read_text().splitlines())
    assert n <= 400, f"s2i_nb/{m}.py has {n} lines: split it along its notebook's sections"

def _private(tree:ast.AST) -> set:
    "The underscore names a module defines or uses: functions, classes, attributes, `getattr` strings."
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return {n for n in names if re.fullmatch(r'_[A-Za-z]\w*', n)}

def fastai_private_names() -> set:
    "Every private name fastai's own source defines or uses (methods, attributes such as `SkipToEpoch._skip_to`)."
    import fastai
    return set().union(*(_private(ast.parse(f.read_text())) for f in Path(fastai.__file__).parent.rglob('*.py')))

def test_gan_iteration_on_one_screen():
    "The GAN stage (`gan.py`: module, loss, learner, checkpoint, log, fit) in at most 250 lines, without fastai's private names."
    p = MODULES['gan']
    assert len(p.read_text().splitlines()) <= 250
    assert _private(ast.parse(p.read_text())) & fastai_private_names() == set()

def test_the_private_name_check_catches_one():
    "The checker itself: the GAN module as it was (overriding `_set_trainable`, reading `_skip_to`) is caught."
    src = ("class T(GANTrainer):\n    def _set_trainable(self): pass\n"
           "def skipped(learn): return learn.epoch < getattr(learn.skip_to_epoch, '_skip_to', 0)\n"
           "def _mine(): return 1\n")
    assert _private(ast.parse(src)) & fastai_private_names() == {'_set_trainable', '_skip_to'}

NBS = ROOT/'nbs'

def cell_names(source:str) -> list:
    "The top-level names an export cell defines: functions, classes, assigned names (`#|` lines are comments to `ast`)."
    names = []
    for n in ast.parse(source).body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.append(n.name)
        elif isinstance(n, (ast.Assign, ast.AnnAssign)):
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                names += [x.id for x in ast.walk(t) if isinstance(x, ast.Name)]
    return names

def crowded_cells(nb_path:Path, most:int=4) -> list:
    "`(cell index, names)` of the export cells of a notebook that define more than `most` names."
    import json
    cells = json.loads(nb_path.read_text())['cells']
    srcs = {i: ''.join(c['source']) for i,c in enumerate(cells) if c['cell_type'] == 'code'}
    return [(i, ns) for i,s in srcs.items() if re.match(r'#\|\s*export', s) and len(ns := cell_names(s)) > most]

@pytest.mark.parametrize('nb', sorted(p.name for p in NBS.glob('*.ipynb')))
def test_one_concept_a_cell(nb):
    "An export cell defines at most four names (one concept, then a sentence and its test, as fastcore's `01_basics`)."
    assert crowded_cells(NBS/nb) == [], f"{nb}: split these export cells, one concept each"

def test_the_cell_check_catches_a_crowded_cell(tmp_path):
    "The checker itself: an export cell of five functions is caught; a test cell of five is not."
    import json
    five = '\n'.join(f'def f{i}(): pass' for i in range(5))
    cell = lambda s: {'cell_type': 'code', 'source': [s], 'metadata': {}, 'outputs': [], 'execution_count': None}
    (tmp_path/'x.ipynb').write_text(json.dumps({'cells': [cell('#| export\n' + five), cell(five)]}))
    assert crowded_cells(tmp_path/'x.ipynb') == [(0, ['f0', 'f1', 'f2', 'f3', 'f4'])]

"`s2i demo` as a person opens it: the command serves the page, a real browser (headless Chromium) uses it."
import os, re, shutil, socket, subprocess, sys
import pytest
from conftest import run

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
pytestmark = pytest.mark.skipif(not CHROMIUM and not os.environ.get('CI'),
                                reason="no Chromium here (CI installs Debian's `chromium`)")

def free_port() -> int:
    "A TCP port on the loopback address that nothing listens on now."
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def demo_url(s2i, tmp_path_factory):
    "A short digits run served by `s2i demo` on a free loopback port; the address the command printed."
    tmp = tmp_path_factory.mktemp('demo')
    r = run(s2i, 'train', '--preset', 'digits', '--set', 'multimodal.epochs=2', 'gan2.epochs=1', 'gan1.epochs=1',
            '--out', tmp/'run', '--num_workers', '0', '--no_report', cwd=tmp)
    assert r.returncode == 0, r.stderr
    port = free_port()
    proc = subprocess.Popen([str(s2i), 'demo', '--ckpt', str(tmp/'run'), '--port', str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp,
                            env={**os.environ, 'MPLBACKEND': 'agg'})   # as CI and scripts run: no inline backend
    try:
        line = proc.stdout.readline()   # printed once the page answers
        m = re.match(r'the demo is at (http://127\.0\.0\.1:\d+/) ', line)
        assert m, f"s2i demo printed {line!r} (exit {proc.poll()})"
        yield m[1]
    finally:
        proc.terminate(); proc.wait(timeout=60)   # SIGTERM: `s2i demo` stops Voilà and its kernels before it exits
    with socket.socket() as s, pytest.raises(ConnectionRefusedError): s.connect(('127.0.0.1', port))

def test_demo_in_a_browser(demo_url, tmp_path):
    "Choose a recording: its sound and generated image appear; a file that is not a sound gets one clear message."
    assert CHROMIUM, "Chromium is not installed (.ci/run installs Debian's `chromium`)"
    from playwright.sync_api import sync_playwright
    args = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run']
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page(viewport={'width': 1000, 'height': 700})
        page.goto(demo_url)
        pick = page.locator('select').first
        pick.wait_for(timeout=180_000)   # the kernel starts and loads the run
        assert page.get_by_text('Traceback').count() == 0 and page.get_by_text('could not use').count() == 0
        options = pick.locator('option').all_inner_texts()
        assert len(options) == 10, options   # one held-out recording per digit
        pick.select_option(label=next(o for o in options if o.startswith('7')))
        image = page.locator('.widget-output img').first
        image.wait_for(timeout=120_000)
        assert image.evaluate('i => i.naturalWidth') > 0
        assert page.locator('.widget-output audio').count() == 1
        (tmp_path/'notes.txt').write_text('not a sound')
        with page.expect_file_chooser() as chooser: page.locator('button.widget-upload').first.click()
        chooser.value.set_files(str(tmp_path/'notes.txt'))
        msg = page.get_by_text('could not use notes.txt')
        msg.wait_for(timeout=60_000)
        assert 'not a readable sound' in msg.inner_text()
        assert page.locator('.widget-output img').count() == 0   # the message replaces the last result
        browser.close()

def test_demo_refuses_a_folder_without_a_run(s2i, tmp_path):
    "A folder that is not a trained run: one line naming it, exit code 2, no server started."
    r = run(s2i, 'demo', '--ckpt', tmp_path/'nothing', timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'not a trained run' in r.stderr, r.stderr

"""The repository address is set once, in _config.yml; the lessons' install cells follow it."""
from course_tools import repository


def test_every_lesson_installs_from_the_configured_repository():
    assert len(repository.lessons()) >= 9
    bad = repository.stale()
    assert not bad, (f"lessons install from another address than _config.yml's {repository.url()}: "
                     f"{bad}; run `.venv/bin/python -m course_tools.repository` to rewrite them")


def test_rewriting_keeps_the_notebook_format(tmp_path, monkeypatch):
    src, original = repository.lessons()[0], repository.url()
    copy = tmp_path / "chapters" / "x" / src.name
    copy.parent.mkdir(parents=True)
    copy.write_bytes(src.read_bytes())
    monkeypatch.setattr(repository, "REPO", tmp_path)
    assert repository.write("https://github.com/someone/fork") == [f"chapters/x/{src.name}"]
    assert repository.stale("https://github.com/someone/fork") == {}
    repository.write(original)
    assert copy.read_bytes() == src.read_bytes()

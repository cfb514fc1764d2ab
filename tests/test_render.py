"""The renderers: environments, escaping filters, template overrides, --solutions and options in every format."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import jinja2
import pytest

from quizgen.errors import UserError
from quizgen.render import FORMATS, LATEX_SYNTAX, TEMPLATE_FORMATS, check_format, environment, render
from quizgen.render.filters import cdata, latex_escape, latex_handles, md_escape, tex_matrix, xml_comment
from quizgen.problem import Matrix
from quizgen.resources import data_dir


def text_of(spec, items, fmt, **kw) -> str:
    return "".join(render(spec, items, fmt, **kw))


# --- environments ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", TEMPLATE_FORMATS)
def test_one_environment_per_format_built_once(fmt):
    env = environment(fmt)
    assert environment(fmt) is env
    assert env.undefined is jinja2.StrictUndefined


def test_only_xml_autoescapes_and_latex_has_its_own_delimiters():
    assert environment("moodle").autoescape is True
    assert environment("markdown").autoescape is False and environment("latex").autoescape is False
    assert environment("latex").variable_start_string == LATEX_SYNTAX["variable_start_string"] == "((("
    assert environment("latex").block_start_string == "((*"


@pytest.mark.parametrize("fmt", TEMPLATE_FORMATS)
def test_a_missing_variable_is_an_error_never_empty(fmt):
    syntax = "((( nothing )))" if fmt == "latex" else "{{ nothing }}"
    with pytest.raises(jinja2.UndefinedError):
        environment(fmt).from_string(syntax).render()


@pytest.mark.parametrize("fmt", TEMPLATE_FORMATS)
def test_every_shipped_template_compiles(fmt):
    env = environment(fmt)
    names = [p.name for p in (data_dir("templates") / fmt).glob("*.j2")]
    assert f"document{ {'markdown': '.md', 'latex': '.tex', 'moodle': '.xml'}[fmt] }.j2" in names
    for name in names:
        env.get_template(name)


def test_unknown_format_names_the_choices():
    with pytest.raises(UserError, match=r"--format must be 'markdown', 'latex', 'moodle' or 'json' \(got 'latx'\).*did you mean 'latex'"):
        check_format("latx")
    assert set(FORMATS) == {"markdown", "latex", "moodle", "json"}


def test_format_options_are_checked_when_render_is_called(quiz_of, special_problems):
    spec, items = quiz_of(special_problems[:1])
    with pytest.raises(UserError, match="--moodle-type goes with --format moodle"):
        render(spec, items, "latex", moodle_type="multichoice")
    with pytest.raises(UserError, match=r"--moodle-type must be 'numerical' or 'multichoice' \(got 'essay'\)"):
        render(spec, items, "moodle", moodle_type="essay")
    render(spec, items, "latex", moodle_type=None)  # an option left at its default is fine anywhere


# --- escaping ------------------------------------------------------------------------------------------------


def test_latex_escape_specials_and_unicode():
    assert latex_escape("50% of $5 & #3_k {x} ~ ^ \\") == (
        r"50\% of \$5 \& \#3\_k \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    assert latex_escape("3 × 3 − 1 ⌊x⌋") == r"3 \(\times\) 3 \(-\) 1 \(\lfloor\)x\(\rfloor\)"
    assert latex_escape("[x]") == "{[}x{]}"


def test_latex_apostrophes_curl_but_quotes_around_values_stay_straight():
    assert latex_escape("Keras's 'same'") == r"Keras's {\ttfamily\char13}same{\ttfamily\char13}"


def test_every_non_ascii_character_of_problem_texts_can_be_typeset():
    """Prompts, steps and feedback come from the generators, the mistakes catalogue and quizgen.text: whatever
    Unicode they use, the LaTeX output must compile with the default fonts."""
    import quizgen

    package = Path(quizgen.__file__).parent
    sources = [*(package / "generators").rglob("*.py"), package / "mistakes.py", package / "text.py"]
    used = {ch for path in sources for ch in path.read_text(encoding="utf-8") if not ch.isascii()}
    missing = sorted(ch for ch in used if not latex_handles(ch))
    assert not missing, f"add these to quizgen/render/filters.py (_LATEX_UNICODE): {missing}"


def test_markdown_escape_makes_inline_syntax_literal():
    assert md_escape("*a* _b_ $c$ <d> [e](f) `g` |h| ~i~ ^j^ @k #l &amp;") == (
        r"\*a\* \_b\_ \$c\$ \<d\> \[e\](f) \`g\` \|h\| \~i\~ \^j\^ \@k \#l \&amp;"
    )


def test_markdown_escape_doubles_a_backslash_once():
    assert md_escape(r"a\*b \_") == r"a\\\*b \\\_"


def test_cdata_splits_a_closing_sequence():
    assert cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"


def test_xml_comment_never_holds_a_double_hyphen():
    assert "--" not in xml_comment("a -- b ---") and not xml_comment("a-").endswith("-")


def test_tex_matrix_one_map_and_channels():
    assert tex_matrix(Matrix(((1, 2), (3, 4)))) == r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"
    halves = tex_matrix(Matrix(((1, Fraction(-1, 2)), (3, 4))))
    assert halves == r"\begin{bmatrix} 1 & -\dfrac{1}{2} \\[6pt] 3 & 4 \end{bmatrix}"
    two = tex_matrix(Matrix((((1, 5), (2, 6)), ((3, 7), (4, 8)))))
    assert two.count(r"\begin{bmatrix}") == 2 and r"\text{channel 2}" in two


# --- template overrides ---------------------------------------------------------------------------------


def test_a_template_folder_overrides_by_name(tmp_path, quiz_of, special_problems):
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "question.md.j2").write_text("## Q{{ item.number }}: {{ item.problem.title|md }}\n")
    (tmp_path / "document.tex.j2").write_text("((* for item in items *))Q((( item.number ))) ((* endfor *))\n")
    spec, items = quiz_of(special_problems[:2])
    md = text_of(spec, items, "markdown", templates_dir=str(tmp_path))
    assert "## Q1: an integer \\& \\<an integer\\>" in md and "## Answer key" in md  # the rest is shipped
    assert text_of(spec, items, "latex", templates_dir=str(tmp_path)) == "Q1 Q2 "
    assert "### Question 1" in text_of(spec, items, "markdown")  # the shipped one is untouched


@pytest.mark.parametrize("fmt", TEMPLATE_FORMATS)
def test_shipped_templates_render_the_same_in_the_sandbox(tmp_path, fmt, quiz_of, special_problems):
    spec, items = quiz_of(special_problems)
    assert text_of(spec, items, fmt, templates_dir=str(tmp_path)) == text_of(spec, items, fmt)


def test_templates_from_a_folder_render_in_a_sandbox(tmp_path, quiz_of, special_problems):
    (tmp_path / "document.md.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    spec, items = quiz_of(special_problems[:1])
    with pytest.raises(UserError, match="template error"):
        text_of(spec, items, "markdown", templates_dir=str(tmp_path))


def test_an_error_in_an_override_names_the_file_and_line(tmp_path, quiz_of, special_problems):
    (tmp_path / "question.md.j2").write_text("fine\n{{ item.problem.no_such_field }}\n")
    spec, items = quiz_of(special_problems[:1])
    with pytest.raises(UserError, match=r"question\.md\.j2:2: .*no_such_field"):
        text_of(spec, items, "markdown", templates_dir=str(tmp_path))


def test_override_on_the_command_line(cli, tmp_path):
    (tmp_path / "moodle").mkdir()
    (tmp_path / "moodle" / "category.xml.j2").write_text("  <!-- my category {{ q.topic }} -->\n")
    out = cli("make", "--topic", "pooling", "--seed", "1", "-n", "1", "-f", "moodle", "--templates", str(tmp_path)).output
    assert "<!-- my category pooling -->" in out and '<question type="category">' not in out


# --- --solutions / --no-solutions in every format -------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, with_only",
    [
        ("markdown", ["## Answer key", "**Worked solution:**", "Step one"]),
        ("latex", ["\n\\printanswers\n", r"\begin{solution}", "Step one"]),
        ("moodle", ["Worked solution:", "Step one"]),
        ("json", ["Step one"]),
    ],
)
def test_solutions_flag(fmt, with_only, quiz_of, special_problems):
    spec, items = quiz_of(special_problems)
    with_key = text_of(spec, items, fmt, solutions=True)
    without = text_of(spec, items, fmt, solutions=False)
    for marker in with_only:
        assert marker in with_key
        if fmt != "json":  # JSON is data: it always carries everything
            assert marker not in without
    if fmt == "latex":
        assert r"\noprintanswers" in without and r"\makeemptybox" in without
    if fmt == "moodle":  # Moodle needs the answers to grade: they stay, only the worked solution goes
        assert "NUMERICAL:=" in without and "<generalfeedback format=\"html\">\n      <text></text>" in without


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_input_same_bytes(fmt, quiz_of, special_problems):
    spec, items = quiz_of(special_problems)
    assert text_of(spec, items, fmt) == text_of(spec, items, fmt)


def test_json_still_renders(quiz_of, special_problems):
    spec, items = quiz_of(special_problems)
    doc = json.loads(text_of(spec, items, "json"))
    assert [p["answer_kind"] for p in doc["problems"]] == [p.kind.value for p in special_problems]

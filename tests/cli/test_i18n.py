"""klkit demo and klkit explain in Korean: --lang, and the language of the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import FAIR, LOADED, as_json, fails, ok
from typer.testing import CliRunner

from klkit.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEMO_KO = [
    "세상은 공정한 주사위(P)를 던지고, 우리는 절반의 확률로 6이 나오는 조작된 주사위(Q)로 "
    "그 결과를 예측합니다.",
    "H(P), H(P,Q), D(P||Q)의 결과별 분해 (단위: 비트):",
    "H(P) = 2.58496 비트 (목표 분포 P의 엔트로피)",
    "H(P,Q) = 2.93494 비트 (교차 엔트로피: P를 Q의 부호로 기록하는 비용)",
    "D(P||Q) = 0.349978 비트 (KL 발산: 마지막 열의 합)",
    "H(P,Q) = H(P) + D(P||Q): 2.93494 = 2.58496 + 0.349978",
    "H(P,Q) = H(P) + D(P||Q): 2.16096 = 2.16096 + 0",
    "조작된 주사위를 자기 자신과 비교하면 (P = Q = 조작된 주사위):",
    "P와 Q는 같은 분포입니다.",
    "교차 엔트로피는 조작된 주사위 쪽이 더 높습니다.",
    "한 번 던질 때마다 H(P,Q) = 2.935 비트의 비용이 들지만, 공정한 주사위 자신의 부호로는 "
    "H(P) = 2.585 비트이면 됩니다.",
    "그 차이가 바로 KL 발산 D(P||Q) = 0.35 비트입니다.",
    "자신의 엔트로피(2.161 비트)만큼만 비용이 들며",
    "klkit-demo.png 파일에 그림을 저장했습니다. 면마다 P와 Q, 그리고 각 차이가 보태는",
]
ENGLISH_ONLY = ["The world rolls a fair die", "Breakdown of", "entropy of the target P", "wrote"]


def _korean_demo(text: str) -> None:
    flat = " ".join(text.split())
    for sentence in DEMO_KO:
        assert sentence in flat
    for words in ENGLISH_ONLY:
        assert words not in flat


def _run(*args: str, **environ: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **environ})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_demo_speaks_korean_with_lang_ko(files):
    _korean_demo(ok("demo", "--lang", "ko"))
    assert Path("klkit-demo.png").read_bytes().startswith(b"\x89PNG")


def test_demo_speaks_the_language_of_the_environment(files):
    _korean_demo(_run("demo", LANG="ko_KR.UTF-8"))
    _korean_demo(_run("demo", LANGUAGE="fr:ko"))
    english = " ".join(_run("demo", LC_ALL="C", LANG="ko_KR.UTF-8").split())
    assert "The loaded die has the higher cross-entropy" in english  # LC_ALL comes first
    assert "The world rolls" in " ".join(_run("demo", "--lang", "en", LANG="ko_KR.UTF-8").split())


def test_demo_in_korean_in_a_real_process(files):
    # the console prints the wide letters through a real UTF-8 standard output
    environ = {**os.environ, "LANG": "ko_KR.UTF-8", "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "klkit", "demo", "-o", "die.svg"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "결과" in result.stdout
    assert "die.svg 파일에 그림을 저장했습니다" in " ".join(result.stdout.split())


def test_english_output_is_the_default(files):
    text = " ".join(ok("demo").split())
    assert text.startswith(
        "The world rolls a fair die (P); we predict it with a loaded die (Q) that shows 6 half "
        "the time. Breakdown of H(P), H(P,Q) and D(P||Q) in bits:"
    )
    assert "H(P) = 2.58496 bits (entropy of the target P)" in text
    assert "wrote klkit-demo.png: P and Q per face with the gap each contributes" in text
    assert not any("\uac00" <= c <= "\ud7a3" for c in text)  # no Hangul


def test_explain_speaks_korean():
    text = " ".join(ok("explain", FAIR, LOADED, "--base", "bits", "--lang", "ko").split())
    assert "D(P||Q) = 0.35 비트에 가장 크게 기여하는 것은 결과 1, 2, 3, 4, 5" in text
    assert "H(P,Q) = H(P) + D(P||Q): 2.93494 = 2.58496 + 0.349978" in text
    data = as_json("explain", FAIR, LOADED, "--base", "bits", "--lang", "ko")
    assert data["summary"].startswith("D(P||Q) = 0.35 비트에 가장 크게 기여하는 것은")
    assert data["unit"] == "bits"  # JSON keys and units stay the program's words
    korean = _run("explain", "0.5,0.3,0.2", "0.5,0.5,0", LANG="ko_KR.UTF-8")
    assert "D(P||Q)는 무한대입니다" in " ".join(korean.split())


@pytest.mark.parametrize("command", ["demo", "explain"])
@pytest.mark.parametrize("value", ["fr", "korean", ""])
def test_an_unknown_lang_is_an_error_naming_it(command, value):
    args = [] if command == "demo" else [FAIR, LOADED]
    err = fails(command, *args, "--lang", value)
    assert f"klkit {command}: error: --lang: '{value}' is not a language klkit speaks" in err
    assert "use en (English) or ko (Korean)" in err

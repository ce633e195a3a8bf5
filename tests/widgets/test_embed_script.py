"""embed.js as it is served: the loader and its families, their size budget, their strings (one language
at a time, from the gettext catalog), and the reduction that serves them."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviews.platform.settings import SUPPORTED_LOCALES
from widgets import jsnames, scripts

BUDGET = 5 * 1024  # what a product page loads of embed.js: the loader (with the star snippet) and the review list
FAMILIES = ("reviews", "carousel", "badge", "extras")  # the star snippet is the loader's own


def versions_in(loader: str) -> dict[str, str]:
    """The families' versions the loader carries: {reviews:"1a2b3c4d",...}."""
    found = re.search(r"\{reviews:[^}]*\}", loader)
    assert found, "no versions in the loader"
    return dict(re.findall(r'(\w+):"([0-9a-f]{5})"', found.group()))


async def _family(client: httpx.AsyncClient, name: str, **headers: str) -> httpx.Response:
    loader = (await client.get("/widgets/v1/embed.js")).text
    version = versions_in(loader)[name]
    return await client.get(f"/widgets/v1/js/{name}.js?v={version}", headers=headers)


async def test_loader_headers_and_what_it_never_does(client: httpx.AsyncClient, merchant: Any):
    r = await client.get("/widgets/v1/embed.js")
    assert r.headers["content-type"] == "application/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=3600, stale-while-revalidate=86400"
    assert r.headers["access-control-allow-origin"] == "*"
    for name in ("embed.js", *FAMILIES):
        js = r.text if name == "embed.js" else (await _family(client, name)).text
        assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "document.write" not in js, name
        assert "document.cookie" not in js and "localStorage" not in js and "sessionStorage" not in js, name
        # No third-party requests: the only addresses are built from the script's own.
        assert not re.search(r"https?://", js), name
    assert 'credentials:"omit"' in r.text and "attachShadow" in r.text and "IntersectionObserver" in r.text


async def test_each_family_is_its_own_file_with_its_version(client: httpx.AsyncClient, merchant: Any):
    loader = (await client.get("/widgets/v1/embed.js")).text
    versions = versions_in(loader)
    assert set(versions) == set(FAMILIES)
    for name in FAMILIES:
        r = await _family(client, name)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/javascript")
        assert versions[name] == scripts.version(r.content)
        assert re.match(r'(export )?var \w+="', r.text) and "export default" in r.text
        assert r.headers["access-control-allow-origin"] == "*"  # module scripts are fetched with CORS
        # The family's own styles are in it (one request each), the loader's are not repeated.
        assert ":host{all:initial" not in r.text
    assert (await client.get("/widgets/v1/js/nope.js")).status_code == 404
    assert (await client.get("/widgets/v1/js/..%2Fembed.js")).status_code == 404


async def test_a_product_page_loads_at_most_5_kb_of_script(client: httpx.AsyncClient, merchant: Any):
    """The Plausible habit: a size budget for what the shop's page loads, checked as it is sent."""
    gz = {"accept-encoding": "gzip"}
    sent = {"embed.js": (await client.get("/widgets/v1/embed.js", headers=gz))}
    for name in FAMILIES:
        sent[name] = await _family(client, name, **gz)
    assert all(r.headers.get("content-encoding") == "gzip" for r in sent.values())
    # What the server sends is gzip -9 of the bytes; httpx has decoded them again.
    sizes = {name: len(gzip.compress(r.content, 9)) for name, r in sent.items()}
    product_page = sizes["embed.js"] + sizes["reviews"]  # the stars come with the loader
    together = len(gzip.compress(b"".join(sent[n].content for n in ("embed.js", "reviews")), 9))
    print(f"\nembed.js gzip -9: loader with the stars {sizes['embed.js']} B, reviews {sizes['reviews']} B "
          f"= {product_page} B as two files ({together} B as one); carousel {sizes['carousel']} B, "
          f"badge {sizes['badge']} B; budget {BUDGET} B")
    assert product_page <= BUDGET
    assert sizes["embed.js"] + sizes["carousel"] + sizes["reviews"] <= BUDGET + 2048  # the carousel reuses the cards


@pytest.mark.slow
async def test_the_scripts_hold_no_locale_strings(client: httpx.AsyncClient, merchant: Any):
    code = (await client.get("/widgets/v1/embed.js")).text
    for name in FAMILIES:
        code += (await _family(client, name)).text
    for lang in SUPPORTED_LOCALES:
        strings = (await client.get(f"/widgets/v1/i18n/{lang}.json")).json()
        keys = {part for key in strings for part in key.split("_")}
        for text in strings.values():
            if lang != "en":  # English words also name things in the code ("reviews.json")
                for word in re.findall(r"\w{5,}", re.sub(r"\{\w+\}", "", text)):
                    if word not in keys:  # the keys and placeholders are named in the code ("pause")
                        assert not re.search(rf"\b{word}\b", code), (lang, word)
    for phrase in ("Verified buyer", "Bewertung", "opinii", "recensioni", "Show more", "No reviews yet"):
        assert phrase not in code


async def test_strings_one_language_at_a_time_from_the_catalog(client: httpx.AsyncClient, merchant: Any):
    english = (await client.get("/widgets/v1/i18n/en.json")).json()
    base_keys = {re.sub(r"_(zero|one|two|few|many|other)$", "", k) for k in english}
    assert {"verified", "imported", "written", "reply", "more", "sort", "newest", "highest", "lowest", "filter",
            "prev", "next", "pause", "play", "warn", "notreg", "by", "count", "rated", "showing"} <= base_keys
    categories = {"en": {"one", "other"}, "de": {"one", "other"}, "fr": {"one", "many", "other"},
                  "es": {"one", "many", "other"}, "it": {"one", "many", "other"}, "pl": {"one", "few", "many", "other"},
                  "ro": {"one", "few", "other"}}
    for lang in SUPPORTED_LOCALES:
        r = await client.get(f"/widgets/v1/i18n/{lang}.json")
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        strings = r.json()
        assert {k.rsplit("_", 1)[1] for k in strings if k.startswith("count_")} == categories[lang], lang
        assert {re.sub(r"_(zero|one|two|few|many|other)$", "", k) for k in strings} == base_keys, lang
        for key, text in strings.items():
            assert text and "%(" not in text, (lang, key)
            plain = key.rsplit("_", 1)[0] if key not in english else key
            placeholders = set(re.findall(r"\{(\w+)\}", english.get(key) or english[plain + "_other"]))
            assert set(re.findall(r"\{(\w+)\}", text)) == placeholders, (lang, key)
            if lang != "en":
                assert text != english.get(key), (lang, key)  # translated, not left in English
    pl = (await client.get("/widgets/v1/i18n/pl.json")).json()
    assert (pl["count_one"], pl["count_few"], pl["count_many"]) == ("{num} opinia", "{num} opinie", "{num} opinii")
    ro = (await client.get("/widgets/v1/i18n/ro.json")).json()
    assert (ro["count_few"], ro["count_other"]) == ("{num} recenzii", "{num} de recenzii")
    assert (await client.get("/widgets/v1/i18n/xx.json")).status_code == 404


def test_the_reduction_keeps_strings_and_regular_expressions():
    source = """// a comment line
    /* a block
       comment */
    var a = "  two  spaces // not a comment ", b = / +x\\/y[/]/g;
    var f = (r) => r + +1, g = (a, b) => a - -b;
    return typeof a;
    """
    out = scripts.minify_js(source)
    assert out == ('var a="  two  spaces // not a comment ",b=/ +x\\/y[/]/g;var f=r=>r+ +1,g=(a,b)=>a- -b;'
                   "return typeof a;\n")
    assert scripts.minify_js("if (a) {\n  b(';}');\n}\n") == "if(a){b(';}')}\n"
    assert scripts.minify_css("a , b { color: red ; }\n/* x */ @media (min-width: 1px) { .x > .y {top: 0} }") == \
        "a,b{color:red}@media (min-width:1px){.x>.y{top:0}}"


def test_what_is_served_is_valid_javascript(tmp_path: Path):
    assert shutil.which("node"), "node (which `make browser-deps` needs for npm) checks the syntax of what is served"
    built = scripts.build()
    files = {"embed.js": built.loader, **{f"{n}.mjs": body for n, body in built.families.items()}}
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
        done = subprocess.run(["node", "--check", str(tmp_path / name)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (name, done.stderr)


def test_short_names_keep_what_each_name_means(tmp_path: Path):
    assert shutil.which("node"), "node runs the shortened script"
    source = ('var total=0,items=[1,2,3],api={get:(key)=>key*2,items};var keep=(value,other)=>{var inner=value+total;'
              'return{value,inner,other,sum:api.items.length}};var shadow=(total)=>items.map((x)=>x+total);'
              'function named(arg){try{return arg.missing.deep}catch(err){return typeof err}}'
              'var re=/a\\/b/g;export var card=(thing)=>thing;export default(ctx)=>[keep(ctx,1),shadow(10),'
              'named({}),api.get(4),"a/b".replace(re,"."),card(7),total?1:2];\n')
    short = jsnames.shorten(source)
    assert len(short) < len(source) - 80 and "var total" not in short and "var card=" in short
    assert ";var" not in short  # a run of var statements is one
    assert "{get:" in short and "sum:" in short and ".items.length" in short  # keys and properties keep their names
    for name, code in (("long.mjs", source), ("short.mjs", short)):
        (tmp_path / name).write_text(code)
    run = "import(process.argv[1]).then((m)=>console.log(JSON.stringify(m.default(5))))"
    outputs = [subprocess.run(["node", "-e", run, str(tmp_path / name)], capture_output=True, text=True,
                              check=True).stdout for name in ("long.mjs", "short.mjs")]
    assert outputs[0] == outputs[1] and json.loads(outputs[0])[0] == {"value": 5, "inner": 5, "other": 1, "sum": 3}
    for unknown in ("var s=`x`;", "var {a}=b;", "var f=(a=1)=>a;", "var f=({a})=>a;"):
        with pytest.raises(ValueError):
            jsnames.shorten(unknown)

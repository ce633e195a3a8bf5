"""Embedding throughput: the pipeline's embedding step against a bare `model.encode`, in the same run.

    .venv/bin/python bench/embedding.py [--texts 1000] [--rounds 3] [--profile] [--model NAME]

`--model use-multilingual-v3` measures the multilingual channel against its own bare encode, and
`--model both` the two channels as a worker embeds them (each batch in the main channel, then in the
multilingual one, as `scanning.scan` does) against the two bare encodes one after the other.

Generates realistic review texts deterministically (seven languages, 20-600 characters, titles on
some), starts a fresh embedded PostgreSQL in a temporary folder, inserts them as pending reviews of
one merchant, registers the model and creates its HNSW index as the worker does on first use, then
times, alternating which goes first in each round:

- the pipeline: `reviews.scanning.embed_rows(pool, embedder, rows)` (read the stored hashes,
  encode, store the vectors in pgvector), once with all rows in one call and once in the
  worker's batches (`scanning.tasks` claims `scanning.SCAN_BATCH` scan jobs at a time and embeds
  them together);
- the baseline: a bare `embedder._model.encode(texts, batch_size=16, normalize_embeddings=True)`
  of the same texts, and for information the same bare call on batches of the worker's size.

The stored vectors are cleared before each pipeline run. Prints the median of each in texts/s
and the ratios pipeline / bare; the target is a ratio of at least 0.9.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repository before this folder (sys.path[0] when run as a script), whose embedding.py
# must not shadow the `embedding` package; this folder after it, for _common.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))

from _common import Phases, aembedded_database, rss_mb, verdict

from embedding import store
from embedding.model import BATCH_SIZE, DEFAULT_MODEL, MULTILINGUAL_MODEL, SentenceTransformerEmbedder, get_embedder
from reviews import runtime
from reviews.screening import scanning

TARGET = 0.9
WORKER_BATCH = scanning.SCAN_BATCH  # scan jobs the worker claims and embeds together

# --------------------------------------------------------------------------- texts

PRODUCTS = {
    "en": ["headphones", "running shoes", "coffee grinder", "phone case", "backpack", "desk lamp", "kettle",
           "winter jacket", "board game", "yoga mat", "blender", "wool socks", "bike light", "watch strap"],
    "de": ["Kopfhörer", "Laufschuhe", "Kaffeemühle", "Handyhülle", "Rucksack", "Schreibtischlampe",
           "Wasserkocher", "Winterjacke", "Brettspiel", "Yogamatte", "Mixer", "Wollsocken"],
    "fr": ["casque", "chaussures de course", "moulin à café", "coque de téléphone", "sac à dos", "lampe de bureau",
           "bouilloire", "veste d'hiver", "jeu de société", "tapis de yoga", "mixeur", "chaussettes en laine"],
    "es": ["auriculares", "zapatillas", "molinillo de café", "funda del móvil", "mochila", "lámpara de escritorio",
           "hervidor", "chaqueta de invierno", "juego de mesa", "esterilla de yoga", "batidora", "calcetines"],
    "it": ["cuffie", "scarpe da corsa", "macinacaffè", "cover del telefono", "zaino", "lampada da scrivania",
           "bollitore", "giacca invernale", "gioco da tavolo", "tappetino yoga", "frullatore"],
    "pl": ["słuchawki", "buty do biegania", "młynek do kawy", "etui na telefon", "plecak", "lampka biurkowa",
           "czajnik", "kurtka zimowa", "gra planszowa", "mata do jogi", "blender"],
    "ro": ["căști", "pantofi de alergare", "râșniță de cafea", "husă de telefon", "rucsac", "lampă de birou",
           "fierbător", "geacă de iarnă", "joc de societate", "saltea de yoga", "blender"],
}

# {p} is the product. Positive, mixed and negative sentences, and short titles.
PHRASES: dict[str, dict[str, list[str]]] = {
    "en": {
        "pos": ["Really happy with the {p}.", "The {p} arrived two days early and works perfectly.",
                "Great quality for the price, I would buy this {p} again.",
                "Packaging was neat and the {p} looks exactly like the photos.",
                "My daughter uses the {p} every day and loves it.",
                "Customer service answered within an hour when I had a question about the {p}.",
                "Solid build, nothing rattles, and the colour is lovely."],
        "mix": ["The {p} is fine but the instructions were confusing.", "Took a week to arrive, otherwise okay.",
                "Does the job, though it feels a bit cheaper than expected.",
                "Sizing runs small, so order one size up.", "Good {p}, but the box was damaged in transit."],
        "neg": ["The {p} stopped working after three weeks.", "Not as described, the material is thin.",
                "I asked for a refund and still have no answer.", "Arrived broken and the return label cost me money.",
                "Would not recommend this {p}, it is noisy and slow."],
        "title": ["Great purchase", "Does the job", "Disappointed", "Five stars", "Fast delivery", "Not worth it"],
    },
    "de": {
        "pos": ["Sehr zufrieden mit dem Produkt: {p} top.", "Die {p} kam schnell an und funktioniert einwandfrei.",
                "Super Qualität für den Preis, würde ich wieder kaufen.",
                "Schön verpackt und genau wie auf den Bildern.", "Der Kundenservice war freundlich und hilfsbereit.",
                "Benutze die {p} jeden Tag, bin begeistert."],
        "mix": ["Die {p} ist okay, aber die Anleitung war unverständlich.", "Lieferung hat eine Woche gedauert.",
                "Erfüllt ihren Zweck, wirkt aber etwas billig.", "Fällt klein aus, lieber eine Nummer größer."],
        "neg": ["Nach drei Wochen kaputt gegangen.", "Nicht wie beschrieben, das Material ist dünn.",
                "Rückerstattung beantragt und keine Antwort bekommen.", "Leider defekt angekommen."],
        "title": ["Top", "Gutes Produkt", "Enttäuscht", "Schnelle Lieferung", "Nie wieder"],
    },
    "fr": {
        "pos": ["Très satisfait de mon {p}.", "Le {p} est arrivé en avance et fonctionne parfaitement.",
                "Excellent rapport qualité-prix, je recommande.", "Emballage soigné, conforme aux photos.",
                "Le service client a répondu rapidement à ma question.", "J'utilise ce {p} tous les jours."],
        "mix": ["Le {p} est correct mais la notice est incompréhensible.", "Livraison un peu longue, sinon ça va.",
                "Fait le travail, mais la finition est moyenne.", "Taille petit, prenez une taille au-dessus."],
        "neg": ["Le {p} ne marche plus après trois semaines.", "Pas conforme à la description.",
                "J'attends toujours mon remboursement.", "Reçu cassé, très déçu."],
        "title": ["Parfait", "Bon produit", "Déçu", "Livraison rapide", "À éviter"],
    },
    "es": {
        "pos": ["Muy contento con los {p}.", "Llegó antes de lo previsto y funciona perfectamente.",
                "Buena calidad por el precio, volvería a comprar.", "Bien embalado y tal como en las fotos.",
                "El servicio al cliente respondió enseguida.", "Uso la {p} todos los días, me encanta."],
        "mix": ["Está bien, pero las instrucciones son confusas.", "Tardó una semana en llegar.",
                "Cumple, aunque parece un poco barato.", "Talla pequeña, pedid una más."],
        "neg": ["Dejó de funcionar a las tres semanas.", "No es como en la descripción, el material es fino.",
                "Pedí el reembolso y no me contestan.", "Llegó roto y la devolución me costó dinero."],
        "title": ["Genial", "Cumple", "Decepcionado", "Envío rápido", "No lo recomiendo"],
    },
    "it": {
        "pos": ["Molto soddisfatto del {p}.", "Arrivato in anticipo e funziona perfettamente.",
                "Ottima qualità per il prezzo, lo ricomprerei.", "Imballaggio curato, identico alle foto."],
        "mix": ["Va bene ma le istruzioni sono confuse.", "La consegna ha richiesto una settimana.",
                "Fa il suo lavoro, anche se sembra economico."],
        "neg": ["Si è rotto dopo tre settimane.", "Non corrisponde alla descrizione.",
                "Ho chiesto il rimborso e nessuno risponde."],
        "title": ["Ottimo", "Buon prodotto", "Deluso", "Spedizione veloce"],
    },
    "pl": {
        "pos": ["Bardzo zadowolony z zakupu, {p} świetne.", "Przesyłka przyszła szybko, wszystko działa.",
                "Dobra jakość w tej cenie, polecam.", "Starannie zapakowane, zgodne ze zdjęciami."],
        "mix": ["W porządku, ale instrukcja jest niejasna.", "Dostawa trwała tydzień.",
                "Spełnia swoją funkcję, choć wygląda tanio."],
        "neg": ["Przestało działać po trzech tygodniach.", "Niezgodne z opisem, materiał jest cienki.",
                "Czekam na zwrot pieniędzy od miesiąca."],
        "title": ["Polecam", "Dobry produkt", "Rozczarowanie", "Szybka wysyłka"],
    },
    "ro": {
        "pos": ["Foarte mulțumit de {p}.", "A ajuns repede și funcționează perfect.",
                "Calitate bună pentru preț, recomand.", "Ambalat cu grijă, exact ca în poze."],
        "mix": ["Este ok, dar instrucțiunile sunt confuze.", "Livrarea a durat o săptămână.",
                "Își face treaba, deși pare ieftin."],
        "neg": ["S-a stricat după trei săptămâni.", "Nu corespunde descrierii.", "Aștept de o lună banii înapoi."],
        "title": ["Recomand", "Produs bun", "Dezamăgit", "Livrare rapidă"],
    },
}
LANG_WEIGHTS = {"en": 40, "de": 15, "fr": 12, "es": 12, "it": 8, "pl": 7, "ro": 6}
EXTRAS = [" 👍", "!", " :)", "!!", " 10/10", " ★★★★★", ""]


def review_texts(n: int, seed: int = 7) -> list[tuple[str, str, int, str]]:
    """(title, body, rating, locale) of n reviews; bodies of 20-600 characters, log-uniform."""
    rng = random.Random(seed)
    langs, weights = list(LANG_WEIGHTS), list(LANG_WEIGHTS.values())
    out = []
    for _ in range(n):
        lang = rng.choices(langs, weights)[0]
        rating = rng.choices([1, 2, 3, 4, 5], [6, 4, 10, 25, 55])[0]
        bank = PHRASES[lang]
        mood = "pos" if rating >= 4 else "mix" if rating == 3 else "neg"
        product = rng.choice(PRODUCTS[lang])
        target = round(20 * 30 ** rng.random())  # 20..600, most reviews short
        # Mostly sentences of the review's mood, a few of the others, none twice.
        pool = [s for s in bank[mood] if rng.random() < 0.8] or bank[mood][:1]
        pool += [s for m in ("pos", "mix", "neg") if m != mood for s in bank[m] if rng.random() < 0.15]
        rng.shuffle(pool)
        sentences: list[str] = []
        while pool and len(" ".join(sentences)) < target:
            sentence = pool.pop().format(p=product)
            if rng.random() < 0.3:
                sentence = sentence.lower() if rng.random() < 0.5 else sentence.replace(",", "")
            sentences.append(sentence)
        body = " ".join(sentences)
        if len(body) > 600:
            body = body[:600].rsplit(" ", 1)[0]
        extra = rng.choice(EXTRAS)
        body = (body.rstrip(".") + extra) if extra.startswith("!") else body + extra
        title = rng.choice(bank["title"]) if rng.random() < 0.4 else ""
        out.append((title, body, rating, lang))
    return out


# --------------------------------------------------------------------------- bench


def bare_encode(embedder: Any, strings: list[str]) -> int:
    """The model's own call on these texts, as a caller without the pipeline makes it; how many it encoded."""
    raw: Any = embedder._model
    if isinstance(embedder, SentenceTransformerEmbedder):
        return len(raw.encode(strings, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False))
    return len(raw.encode(strings))  # the USE package's own call, which normalises too


async def seed_reviews(pool: Any, texts: list[tuple[str, str, int, str]]) -> list[Any]:
    start = datetime(2026, 1, 5, tzinfo=UTC)
    async with pool.acquire() as conn:
        merchant = await conn.fetchval("INSERT INTO merchants (slug, name) VALUES ('bench', 'Bench') RETURNING id")
        await conn.copy_records_to_table(
            "reviews",
            records=[(merchant, "imported", rating, title, body, f"Buyer {i}", lang, "pending",
                      start + timedelta(minutes=i)) for i, (title, body, rating, lang) in enumerate(texts)],
            columns=("merchant_id", "method", "rating", "title", "body", "display_name", "locale", "state",
                     "submitted_at"),
        )
        return await conn.fetch("SELECT * FROM reviews ORDER BY submitted_at, id")


async def bench(n: int, rounds: int, profile: bool, model: str = DEFAULT_MODEL) -> int:
    ph = Phases()
    texts = review_texts(n)
    lengths = sorted(len(scanning.review_text({"title": t, "body": b})) for t, b, _, _ in texts)
    print(f"{n} texts, {len(set(lang for *_, lang in texts))} languages, characters min {lengths[0]} "
          f"median {lengths[n // 2]} max {lengths[-1]}", flush=True)
    with ph.phase("load the model and warm it up"):
        embedder = await asyncio.to_thread(get_embedder, model)
        await asyncio.to_thread(embedder.encode, [b for _, b, _, _ in texts[:64]])
    rss_model = rss_mb()
    async with aembedded_database(prefix="attest-bench-embedding-") as (_server, dsn, _folder):
        pool = await runtime.create_pool(dsn, min_size=2, max_size=5)
        try:
            with ph.phase("seed reviews, register the model, create its index"):
                rows = await seed_reviews(pool, texts)
                await store.register_model(pool, embedder.name, embedder.dim, active=True,
                                           channel=store.MULTILINGUAL if model == MULTILINGUAL_MODEL else store.MAIN)
                await store.ensure_index(pool, embedder.name, embedder.dim)
            strings = [scanning.review_text(r) for r in rows]
            prof = cProfile.Profile() if profile else None

            def bare(chunk: int) -> float:
                t0 = time.perf_counter()
                done = sum(bare_encode(embedder, strings[i : i + chunk]) for i in range(0, n, chunk))
                assert done == n
                return time.perf_counter() - t0

            async def pipeline(batch: int) -> float:
                await pool.execute("DELETE FROM review_embeddings")
                await pool.execute("VACUUM review_embeddings")
                if prof:
                    prof.enable()
                t0 = time.perf_counter()
                done = 0
                for i in range(0, n, batch):
                    done += await scanning.embed_rows(pool, embedder, rows[i : i + batch])
                took = time.perf_counter() - t0
                if prof:
                    prof.disable()
                assert done == n, done
                stored = await pool.fetchval("SELECT count(*) FROM review_embeddings")
                assert stored == n, stored
                return took

            # bare_batched: the bare encode called on the worker's batches, which tells the cost of
            # small calls (less length sorting, more padding) apart from the database's.
            times: dict[str, list[float]] = {"bare": [], "all": [], "batched": [], "bare_batched": []}
            order = list(times)
            for r in range(rounds):
                with ph.phase(f"round {r + 1}/{rounds}"):
                    for what in order[r % 4:] + order[: r % 4]:
                        if what.startswith("bare"):
                            times[what].append(await asyncio.to_thread(bare, n if what == "bare" else WORKER_BATCH))
                        else:
                            times[what].append(await pipeline(n if what == "all" else WORKER_BATCH))
                print("    " + ", ".join(f"{k} {n / v[-1]:.1f}/s" for k, v in times.items()), flush=True)
        finally:
            await pool.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    rate = {k: n / v for k, v in med.items()}
    ratio_all, ratio_batched = rate["all"] / rate["bare"], rate["batched"] / rate["bare"]
    print()
    print(f"=== embedding throughput: {n} texts, {rounds} rounds (medians), model {embedder.name} "
          f"(dim {embedder.dim}), at {datetime.now(UTC):%Y-%m-%d %H:%M}Z")
    lines = [
        (f"bare model.encode of all {n} texts (batch_size {BATCH_SIZE})", rate["bare"], ""),
        (f"pipeline embed_rows, all {n} rows in one call", rate["all"], f"ratio {ratio_all:.3f}"),
        (f"pipeline embed_rows, worker batches of {WORKER_BATCH}", rate["batched"], f"ratio {ratio_batched:.3f}"),
        (f"bare model.encode, batches of {WORKER_BATCH} texts", rate["bare_batched"],
         f"ratio {rate['bare_batched'] / rate['bare']:.3f} (pipeline in worker batches / this: "
         f"{rate['batched'] / rate['bare_batched']:.3f}, the database's share)"),
    ]
    for label, value, note in lines:
        print(f"{label:<52} {value:7.1f} texts/s  {note}")
    print(f"process RSS with the model loaded: {rss_model:.0f} MB (after the runs: {rss_mb():.0f} MB)")
    print(f"target ratio >= {TARGET}: one call {verdict(ratio_all >= TARGET)}, "
          f"worker batches {verdict(ratio_batched >= TARGET)}")
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
    return 0


async def bench_both(n: int, rounds: int) -> int:
    """Both channels through the worker's step against the two bare encodes, one after the other."""
    ph = Phases()
    texts = review_texts(n)
    with ph.phase("load both models and warm them up"):
        embedders = [await asyncio.to_thread(get_embedder, name) for name in (DEFAULT_MODEL, MULTILINGUAL_MODEL)]
        for embedder in embedders:
            await asyncio.to_thread(embedder.encode, [b for _, b, _, _ in texts[:64]])
    async with aembedded_database(prefix="attest-bench-embedding-") as (_server, dsn, _folder):
        pool = await runtime.create_pool(dsn, min_size=2, max_size=5)
        try:
            with ph.phase("seed reviews, register both models, create their indexes"):
                rows = await seed_reviews(pool, texts)
                for embedder, channel in zip(embedders, (store.MAIN, store.MULTILINGUAL), strict=True):
                    await store.register_model(pool, embedder.name, embedder.dim, active=True, channel=channel)
                    await store.ensure_index(pool, embedder.name, embedder.dim)
            strings = [scanning.review_text(r) for r in rows]

            def bare() -> float:
                t0 = time.perf_counter()
                for embedder in embedders:
                    assert bare_encode(embedder, strings) == n
                return time.perf_counter() - t0

            async def pipeline() -> float:
                await pool.execute("DELETE FROM review_embeddings")
                await pool.execute("VACUUM review_embeddings")
                t0 = time.perf_counter()
                for i in range(0, n, WORKER_BATCH):
                    for embedder in embedders:
                        await scanning.embed_rows(pool, embedder, rows[i : i + WORKER_BATCH])
                took = time.perf_counter() - t0
                assert await pool.fetchval("SELECT count(*) FROM review_embeddings") == 2 * n
                return took

            times: dict[str, list[float]] = {"bare": [], "worker": []}
            for r in range(rounds):
                with ph.phase(f"round {r + 1}/{rounds}"):
                    for what in (("bare", "worker") if r % 2 == 0 else ("worker", "bare")):
                        times[what].append(await asyncio.to_thread(bare) if what == "bare" else await pipeline())
                print(f"    bare {n / times['bare'][-1]:.1f}/s, worker {n / times['worker'][-1]:.1f}/s", flush=True)
        finally:
            await pool.close()
    rate = {k: n / statistics.median(v) for k, v in times.items()}
    ratio = rate["worker"] / rate["bare"]
    print()
    print(f"=== embedding throughput, both channels: {n} reviews, {rounds} rounds (medians), "
          f"{' + '.join(e.name for e in embedders)}, at {datetime.now(UTC):%Y-%m-%d %H:%M}Z")
    print(f"{'bare encodes, main then multilingual':<52} {rate['bare']:7.1f} reviews/s")
    print(f"{'worker step, batches of ' + str(WORKER_BATCH) + ', both channels':<52} {rate['worker']:7.1f} reviews/s")
    print(f"ratio {ratio:.3f}")
    print(f"target ratio >= {TARGET}: {verdict(ratio >= TARGET)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=1000, help="review texts (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the pipeline runs")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"{DEFAULT_MODEL} (the main channel, default), {MULTILINGUAL_MODEL}, or both")
    args = parser.parse_args()
    if args.model == "both":
        return asyncio.run(bench_both(args.texts, args.rounds))
    return asyncio.run(bench(args.texts, args.rounds, args.profile, args.model))


if __name__ == "__main__":
    sys.exit(main())

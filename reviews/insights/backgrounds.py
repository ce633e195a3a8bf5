"""What every clause of a language has in common in the multilingual model, taken out before
clauses are compared.

The model places all text of one language near a direction of its own, and some languages much
nearer than others: Romanian, which the multilingual USE was not trained on, sits in a narrow
cone (any two Romanian clauses were 0.58 alike on average in bench/topics.py's product, English
ones 0.18), so without this a large Romanian product became one topic of everything. Each
clause's vector minus its language's mean, made unit again, compares clauses by what they say.

The means are those of Attest's own gettext catalogs in each language: the same messages said in
every language, so they carry the language and no review's content, and no corpus of reviews
shaped them. `bench/topics.py --write-backgrounds` makes them again (after a change of model or
of the catalogs; float16, base64). A language without a mean is centred on the mean of the others.
"""

from __future__ import annotations

import base64
from functools import cache

import numpy as np

# The model the means belong to: another model's vectors are compared as they are.
MODEL = "use-multilingual-v3"


def _decode(packed: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype="<f2").astype(np.float32)


@cache
def _means() -> dict[str, np.ndarray]:
    means = {lang: _decode(packed) for lang, packed in MEANS.items()}
    means[""] = np.stack(list(means.values())).mean(axis=0)  # any other language
    return means


def centre(model: str, vectors: np.ndarray, languages: list[str]) -> np.ndarray:
    """Unit rows: each of `vectors` minus the mean of its language (`languages`, row for row)."""
    if model != MODEL or not len(vectors):
        return vectors
    means = _means()
    shifted: np.ndarray = vectors - np.stack([means.get(lang, means[""]) for lang in languages])
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    centred: np.ndarray = (shifted / np.where(norms == 0, 1.0, norms)).astype(np.float32)
    return centred


MEANS: dict[str, str] = {
    "en": (
        "wSQ8IQ6olh3knsUlIJpaI6wUUJwgIvahNBxWmoWfIxjZIdKnGKLopnOkTCbyInyfniOnJRQe3BkPpNQZSCXbHV6g/6XGoDag"
        "iKT1HcyUSqTBilCe9B6AIB6h9CP1pWYlQpCaHwchspzuJbCWgRktpVkMwZ0nJPskzRlcDEMTX6Rkohkg3p40nNWgwh5YJN+j"
        "EJbdIESjig9lIqubxBcoKiKtp5wiIgqkVpPinyWgSJoVJiYioCbTpJEe9hzjI4+lKaa2pbaefKGWIlio1RzjGr2gYp7CJQGn"
        "gaDJnemkqhCyHygb6ZxhHj6lWaRUGRMcBJiIIkKkMiPRo/oMuo3NHM4gUiWwmtab/yZ2pmuYYqFvGnIf6qjzpokhcJ6WHnKk"
        "f6XGIscleqEHpPIjKqQBopojxKBOnwsfjx4hIlactCAKpn8gopw7Cr6j/iHjGyekRpjNoB4i8KL9AMCdK6CADWeiYyUuJfKc"
        "l57YJoCm2pbEFLqQrh2qILYmEyGIHCmlLZ8EFnyYTaIMKakbVpg5IOgn8p9PGGmhFh/6HFCikh7WouoWQp6rnpqf+5jgoEmd"
        "A6HVJjOjjaRyJQaiRBYjJhGcjKHmqVSli5pcHlChoqQqnwgfqyTWISumU6QQlGMjdiLkpI+cOyDpoAsgLyJMooaieyLgGCMk"
        "NBg3n+IcfB1THP8iqRz3m4IVj6UxnVyexaLgpOulkqVPJRyhqiB7HLEfFiTdnhSbHSW5HVAkzCT6JgKpcJXKnQCnwh+PpGmj"
        "siGLoeMn0hAPlsifPqVcpfWj2x8spCmg8CP2Ix+bHxyMJJOjfCQeKEqjexSbnA+cz6JIpjkcyBoqKB4jiaSjo7gjHyA0oe+j"
        "HyS7EnMlFSFEGlSh/qPoIMChXiSYIg8daCNUoUiochy0IjGh5KEopP2iBSS/JqShiyFfoIgk2yP2o2Ql0qULp5imBCFhHYcX"
        "TxgzkA4VQCRHH0+ZXyKCJPuoNSKJgMGiqCYDpHmUiJ8vnrEcTyCEIeojM6BEnx8oRaKWKb0d46RRJDUgm6Stmk4hcqP8pjWg"
        "aCT2I38iKaHZI1slLZvKGoMkIJzEJUWe8B7IoH6ZK4t5JgihjiCnHWcfC6Q/If2cmp40hWumnCLjiYsm8KC2o34nZCXuo5Uf"
        "G6BYm0WIbZpOlWie26gcIYMaVaSOIuInXhxvJoAVLKgSpBiZPZHlpN8m3xj0p8shbaQUou+CniE+m14jb6X8I+WoIKaqmVwj"
        "UyZJoSifdqYEoMOcmSKuJJsgkRTPFTubFZlbKACfhBULJzwkAZ+Mp3AStiQNo/Yd+iL1FwqZARD+lMIc2Z9TFtESJ6UwpW0k"
        "TiivnnCU/aLbloYc2xT3pA=="
    ),  # 504 messages, norm 0.346
    "es": (
        "vyIGITymfh7AEYokrJ3rJNeh46H9ITyhIRmome8Xopr5IHCnFKIYpjeiQiVWH8AOViJJJFAgzBb0pOccPiFtHM2i+qNKnByi"
        "xaOYGtQe5pq6HKOgoB2YDy2h3iQ0omAlZpwwFKsgj6C8JJ+X9JZPpAeUoqI/I7Eiqh9OFNMbqaUtolEgHaDakauaWJTtJDWj"
        "8pxoIRGkdJ1uHfQe2BN5K62t15zeIdekbxtHpD6YxJ5SJS8gKCatpdMaWCHNJdCkPKYVp0GcN6WUISanO5OPntedvJxsJMul"
        "xaJonU+lrwqoH2kdfJyyH+Wmu6EIESoXtJxiIWKkMCU0pI0WEBaEHHQaiCWxmXyZnSg/pl+f1KOMHAggoKhSpPUgb518jUeh"
        "Z6bSIFMloKP9o+Ifw6P2ooMi/J7glBMk0yDdJAGSiCLOpjghYp2yGMCiGSS4HFelGBxZnCghW6Q0nb+ieIzhGo2gkSVXI7me"
        "8Z4BJzOlFBynnOwP95teJMkkEiMlGyqjf5wiGLyem6EoKWkgN5uoJBUo8JwUGc6elCCrmmqgKBnLpECPO4+yoyag3Z7DomiM"
        "0KF0J3aelaZpIpWhtRaqJREioaMbq7SippjTINifrqBUl4iPoBxxII6mtaTrn2UhDCAyo6gZ/Bk6lKIgXhxbpJCiCSMuIC4m"
        "Ix5emiUg9RzOIawhL5w3FlyZS6DUm3+ieKIvoOai5aX6JGKfCB0qmiAYSST0oJgQwiTiHSQkqSCjJoWnvY/GoJCmghzipDql"
        "9BwIn8ImFRzvly2hOqL/pF6iVB/vopybciXwH6yay5rkI9WlPyRkJmek9Jw0H3CgtZ0MpdQfSCFVKPQhvqTgofwiVSEcoiua"
        "pyT0lOYlkSHlHDmZ86QIIg6goSThIiasviAVodaoXx30ImSgA6SIpEme+yR/JQGh7yFvoHslnCAQpJsmxKNNpgKk9R5eEgcQ"
        "lhoyHfGaOyX/HE2cYSSdIhupnSAcnoKlpiRxov2Ug6GsoOMVzBm6HhEmVZ4wmlYlL58rKqIcDKTmIochhKMLkBkcKaKppT+j"
        "HCIIJNUdeqFuI+slfB2DG2MlHRBZJo2dxSELnmcczJUnJDybLyPuFecgt6LdI96Qs52gIj6m/iA3GC4me6EvonYnmyEinwIT"
        "w5xAmHScTJupHHKfUqivIRmcDqWPHcYnlRqTJjQdpaeDpKMDD5hno9Yl5xDtp3whvKQupCGcjBL3nqIi/6L0I1moy6c3mO0k"
        "tiYfomeiy6O8oAEcQSLlJJoeTpVgilGTz5ZEKH0SDZYcJ7wgbZyTqPcX8SK6nTIixCNWEwKcv5zVlmwhpqCCGPKaP6GxpKUk"
        "MicMn0WafaOHEfEYw55/oQ=="
    ),  # 516 messages, norm 0.344
    "it": (
        "eSLIIbSmyx65mEgkZQgpJEqgpZttITqfnB3blm2eQQ8lIuunOqEaqBWiMCWeIm6dViSzJd4cpJeWpAMbdyPGFQeepaRYoh2g"
        "waQRH4UgZKM3ED6dECIeH4WbtyQ6pOkjS6DpHoAjCqBzJNSWKhbSpHWb+aGII5glJh4nGLQR2KQXpPwgnZzbnqahQBxfI0ai"
        "kZyqIb6hp5FEIDcW6xTjKm2t15sIHx2kxB4soRSSypvvJDQfUyeCpeYgDx/2JQWlfKfopu+fs6NCINGnyBhgmumY6p+oJJ2m"
        "CZ8tmISicpAFGr0gSZ8/GLClcqTpEdAbdJp3Ia2j4CLlob4NUJs3HlwbCSQymX+KPCcppU8QCqRaHo0Z2agepv0eUJ20GzWj"
        "KKT0IZklL6M4o08hUqK9ocgh15yLHOcYlSCqIeydRB67pTAhPp0+mrSiDyK1mpmkihJCm2cjQaJKme6hDZK/mIikqyWfJLGi"
        "xJvVJwumUxiyDxiWwYDpIg4mOCGqHB6kxqBNG1Ob6aG7KJcRopjeHx8ovJ9hFbSf1CFMGgqg3R/rol8fHaFZlh6hdJofoxCZ"
        "lKBkJz+iqKRLJVyg2xzCJe4bg6Fiqp6l4wpvH/OglqPDnZQfjSTYH0KmA6S1iJEiDiBso3Wa1x3Rnncgcx8cpE+kwCFcHAgk"
        "vxrCnkEgSAFPHdsgtRwrmhIeLqOQn16hJqOkpBakK6WKI1WfqCAWHIoeGSIkmV6bziOEGv0imCS3JVmnjJ0GnSynHx8zpGik"
        "fR/UodInjhAGncqcrqR+pGqjRx/tnbCf4iPsIe6YuRfxIeGkxCTZJiukaxGLGJuda6MEp3wcBh5sJ34jtqN9nV8iHiIFowGi"
        "MCNyGFwmlCAaIs6gXqT9HkSf9COHIg+q/iBJn7CnJBo6IbKg4qLWoiajdSMwJQuh5SCmo50jPCKYo7Ulg6SXp5alkyD9GCAS"
        "WhqdHnKX+yTVIK4ZDyIQI2KpMx54HDml5SVhoViWdpzwnsQiYh8XIKkkgKHWnMcng6N3KfMVQqRZJIcc7aIilv0dP6NlpmOg"
        "7yMnJMMg4aElI/cmJ5QIk08lCiADJcihBiBtoa6cFpNoJXyd0iAfFH4gLaMFIFuYRp0lH/GktiFBG3cmwJ9uo+8nFSTroqEa"
        "Y6JfnD+UQJwyFKaijKgtH/MUvaEYIjooxRkKJnQdRKcjoiSeUxlupOclEg/0pmkhp6Nao+aWZB1RnPIjJ6TNIzOnXKZuHvUi"
        "uyeaoe2hpqVooCORpiChJXwhRpLNDYueFZxqKDqeKhxjJgMhN6D+paQbRSR4onsQdCEBks+cmphyjWked55+GSEZpKTrpB0k"
        "hSZfnRqPR6EEGgIcy56/ow=="
    ),  # 514 messages, norm 0.334
    "pl": (
        "RSTmHv2mUhnGnDom+aHeIkUc1KCFHlugEZlvkvuf/hiYIuin66SDp16k3SUiHqOiCSSsI5seu5bmpfUdICREH/ygSqOUAr6c"
        "7aTsnHkZRaK1mTSgjCIwG1WgFyMXn8wl3pvDGgEfgoAsJqiMfBokpZGKSKIZJBskjJqcnDUYB6YPpAgd55whmR2bKxhEJKei"
        "Wh0bIBWjmhsjG34arxWMKeSsnZ7HIkGlhyAgpICSoZhhJeYikieRpRQYjiJ5I9Ck0qRcpxMR1qIxJFKoCxsrF9WfQBRiJPWl"
        "DKMgmMSl/BLHIFwdSKACHFimD6QnGFySo6B5H+WiICUnpKsYFRXAHA8eeCSKmoqasyYapUYNQaRGHLsdvKiEplYdx50PGDyl"
        "vqWCIIElTp9zpD8hwaFvoCEiLZ26EYYhwxwrJJqcux+HpWogVxI5le+kpCIoHNKktx1qkKgd5qECnzqdMp2gjxakHyShIm6g"
        "bJygJ9+nfh01iZaf7yBQHwomRSNIIG6iLxUkGHWYdaAaKFEceJ47IYoo4ZspGsCgAB0mj1mgICB9o+kWbJ89opma6ZWko6Mc"
        "cp4eJU6hw6TTI5efex+sJqiX66BJqnSoGpwXIf6gK6SfmXIcDSDRGoKmYKXRnKQiYCLvpLYNJCNTE2oYuR9zoxCi3CJkH70k"
        "kB/0nrgaPppUIFQk+hiNmzMZnqPSGMahEKMipE+kiaVBJLqa2SKDGUIc0yNznvaeZSXbHmsgZiULKCCou5hCoWen+ZeVpAii"
        "9yA8oXgmCSDWEK2jFaTPpFqh6CHJoTEbsiVRIB6bh5VIJPqjUyMfKEGjkJDzGMuatZq2o2UgqR8DKKwhZaSZnswjiB5un4mi"
        "WiTwlVUlOCQkGnueDqbIG2+jSCAsIYqlPCKPotWoLhoNIZChNqIvpJminiTNJN2iYSMumK4kCiMYpFEnF6VQpfilTxwcGwGa"
        "eY8vEH0coiOKHi2dlySYI7uo+CDkimWjoiIPpAQay6Dro88ctR1eJBwk2ZHinC0mv6MDKjsZ/KJoJRog06RrHCshPqXpppKh"
        "5SDoIdMgGaEwJKUkrhrUh94iHRTKJ0+jliIKlf+ckJ32IgqW8R+XklEiP6OjIWETvBtWIN2lzCGpkbImVaQepOwnOyNOo/kf"
        "nJ8pnvUVTpP1HXigN6gXHTkYsqO6IP8lZx7cJYuB76ZxoWWdyRmEpMgmBBpspxAjY6Vwo1AaNx9voHMjE6WsIXKpK6a4lEkh"
        "MyVNo8yiNKSfoMKdCyUjJgMcFgzXlkeYS51YJ12dPBXMJ/gjsJy1p2ibKSXUoAEjrCOMH1adSZ1uHDMgh6GUlWubj6GcpfEl"
        "ZSj0n5WdU6P1mVYYWpproA=="
    ),  # 512 messages, norm 0.337
    "ro": (
        "7yPRKYupIiR8o3skWiaBqzAqPii0KHkYgaB9IVKpQCJIIhaoTqaIpJAgkSInKUsk56LrpuMeUJjan4gmziPlJ7WpA6oipe6n"
        "u6WOJrIhpBg4KH0Y1Z6iIkQj9yXKKQWe+yLTJMiiRiWpHNml1SXdp4andCK8no4oUygdpyikI62tqA4hT5jnJR0kBhvDIcSj"
        "6ievpnWiSx6pHlGnl6hVKf+tsJ5ho1SY/KWNHCync6M2F/YmaCj8pxcpLahQKK6hqqNRqQYeA6hVqFSnJSs0CJIlPZFypbil"
        "QZ18ID4gJClGqKKmnqIXoi6omSc1EzglgKtCJHglXZMkH6uctaBAJf6ceynIJA0ncCjLqqGlKqtkqdIk6KBhJzIjVSTgJ7gb"
        "FamhqLakQqH1J12kbal2JncgSiDJITclAqdjJZ2ddKgFoGiiraR2IASfeSRtqCijyyYMqiQkv6EUrOGfhScCKLaksiRsI4ak"
        "oacKKKYjMajeoWwnpiZVJoSlq5JoKCukk6jhqoGorCShIKEp26cTJkEoFqpWH+UmsKJYpsQMHZ0QKLan8Rx9I4CoDyGaqb+p"
        "9qrGKRaqqaYAJ18nFauMKsuo7asDqG0kWiDUn8KhbKW6JXao46jbJLid5KWhpESaNymKGQGmBx6oJBYMWaQvJXKbMqiuFdmp"
        "ZqHspvuoGKNmGKSkuKQtprWkdqmXqI4hMaUapGEd/qivp86pmSC+o2UkIidHqmcilqAnKAcc1SG4n36iEKQ0HpSk8iGGp8If"
        "OhgZqKIY7qGpmmKeVyejpbUeOSpAqaWiMyV4ImYplKC1JEOoDpQoKiCqI6SbKOQp5SdZJYUkBymrGFkU+6InpFgeNCAFoHcq"
        "Ixz0ISAfEiUYKF2mTaW7KQelO6SoCTytjKh2oPOm9aTPpSol3KDcpsah3BuhqfQkjCnal3am6SYSp/0jGaAwoQGnhiF9Knac"
        "aCkdolYpmyg/IeskrqP9o2SmtaE+peSkeqC7ICCq9abxp74bpxLCJTspQ5/SquYkEpyWHAcqCqJhGxIgm6D9I/AiC6gWqE8k"
        "YaoQKQQg0yCxJNqm2h7KKoKm86IHKeCroygdq+KloCRQJkKgISXDoVwnzhwPJX4jviQlKZOXGamIpSMqJimOmhInoZ1pnMWd"
        "RKiaKGelQagNGpgbpqumJyqkf6m/JdefMxvjIJMqdoMHINcfLSXnIyOhmapgq2Go5KTwpj2eXR3yqYMg2aOlpeqoFqsOp4so"
        "kRTIpU6hThhPqSkcPilIJtKpiBvPIiEiaqAOIGAUtCKfJHWhzSh3p2khiSduqOeksSSFphUouqRrIQadDaHhEMcjkCS+pGGo"
        "KSZAJhOpxaMSopSJUqCzJQ=="
    ),  # 511 messages, norm 0.611
    "de": (
        "byNqHd6k9yASpBUmFqAKI9ScP6RSJMGcYxjFGVoYDxtVJK2nv6H7pEqjlSepIfGUYSI4JEkdap0kp+QjQR5yGjqhj6Wmn8Of"
        "/qZWIEaI552umdqgdRiGoFOj3yEXnN0mdqGSI24alqKTJAAaTR3Oor2ZIpjeJFomBBzqG52VbqT5pZ0Y5ZfwmTmh6xnPIUul"
        "JZUqHMeh35pLIOSggx72KQ+uFqECJAOex5/+pDqdeJlCI2MhaCjlp6qKGCWQlvOh+KaYpvid9aHhI1WoRx1Hn16fLaApJTKn"
        "J53pjcmkYh/EnBIeT5qyIECmVaUjl2wkGZzlIOOhJSXXpFYXAJutDMogdCU7nZuVxCjGpE0bz6FXEnac3ahop/ki/JtXmeml"
        "lhgVI9okLaEko0Ej6KAxoE4j1qIfmF4WHyBVJGagGCGxpWQW6JqPlOWhECRdlamkORN2nY4c3KQhntShKpZ3IW2nCCRLIAqm"
        "B5uvJ/alCRRknFQd3hjWI0AlgiQ0JHKlraPDFA+go6G6KW8d5JI/IPInuqLBIuSZzSBaIL2g1x/ipIegipxaoB2kjZwnp00O"
        "EaP7mWOkT6EUJvWilRtdJ7QcH6WoqqanpJ7RHmOiRqF9nyEhNyHInFSl952doXIjjiNCpcOZFSCmooEaQCU1o1akQyBQnEok"
        "KR+ZmT4ieBkLHGchwhl4n++ZN6OImumjvqOPpdil7aZlI0ydMB3dIcAfpyVQoesfqiZwItEjEyJ4JSKnwJM8noGlhJrMovGh"
        "RSBBosAnCJ/7oKGawaRipZSkEx9NpGGhPyQAI3qQ6ZkpDyGk4SJ9J5mnfJStnQobWaDNpMmXfR4GJ5QgN6SNodAj1CD/meGc"
        "nCUlmVYkkiCBFY2etqRpGg+g0yM2JBSrpSGTov+oxyEIJEaaLqE3oeyk6SSFJrigGCKQn1YlHh4ko+cmN6XJpZ+mjB1cFYCe"
        "KYpzFgMD/yK+GouXNyIKID2p3SAHmwujNiI7oJSYHaDKolMR4xxRIGQl75jZlTEmp6R6KnCYqKdSJXIPuaV0HbEdTJ4cpbab"
        "FiSyIsEf8KJ1IwklPiA9HKclCRiGJ4acxh3hoBikMpmFIn+bJiOonEYkF6jvIsEYaRmGIR+nvCDBnUAluxecpaQoNR+opVgg"
        "Kp0Qnv2YOaEamBKZqKixmuOZLaTmHqIoASBnJxkksajroSKfMAwhoMInVBnzqAYY8aBRoS+L+SJJmqMjYaS4HfKmwqakmA8l"
        "jybApD+csqf8n+cUTiE8KKsgKCB0HvyfAJrwJX0gcx8eJ7AkcYBCpxGhXSPSoAIj/h47GAcVuZxHmwAhKQ1eIRac3KV9pNwd"
        "oSdolO0Y2p0jnQgVYRnwoA=="
    ),  # 493 messages, norm 0.361
    "fr": (
        "iSRPIIqlRyD1oWYlEZsjIRuiJpwiJGWZFJhwGu4XepoqH5unHKPkp5ii/iQoHoSZqiPGI3sdk5ifo/MekCEyC9udV6SQnuCg"
        "RqIpHPQf5KHFGI2gbyJrHQiS1yRjnmwiKJ/HFxgjYJ9mJF2Yng6LpX6duqD+IR4l7B62gfMbLKStoyMjXZ/UmMygVpJxJEel"
        "gxf2IfGihhz0GxKR2gnrKwKuoZ8AIlSl0hUmpfKV25+yJf8faCdGposdMyCWIjaloaYUpxmdC6AtH9mnFwkLk9mfiJ15Jaem"
        "SaD1jpOjl5Q4GLQglJxhGaSmA6MslDEejp4GIUejnyNhow8WpJQijuMhTCRom+edjijbpd6cd6QUnPkVlajkpH8igqD1ifSi"
        "d6S7ICIkC6L3oNYhyqPSnv8i3KF1jdofWRsvINye4iKApb4fmJ/oHAGk0iAQHNmjPoy9ob0YMaGroOKg5xnOHkCkrSSIJQGk"
        "HJV3JwqmnZmlmg2ZUIRIJPMl9SISHzaib53li5GghqAGKVQfspkDI0QoMJ8DE6mZEhhWGHygPhuQoJgUUp1Jlu2hLhuJpFGe"
        "X6GyJnmhpaVYIRmhBx12JdIgDKCEqlSlrpbjGROjDaJYoEAbFyJXIACnhKSlnq8jcCACpXEcPRmOm7sgSiCzowejXiR8EdIk"
        "zRyNmioS2pTRHm0f3xbzGLsaiqTpDGif2KNXogKjxaZIJX6fJSDJIYwfLCPLnBKTkCXjkLokzSLRJuGm4423mF2oNhtrpHKk"
        "XiA1ocsnFCDskxShTaPYo5+kfhw3nlSgriXDID4bxZglJkuldCO8Jmak3Rj/HSabIpakpOEUnCGoJ7gkTKRznS0lCCJ6oCah"
        "TiRrkR4lySJ0IL+gB6R1HumeqyTxI56rriIcod6okSAKJNuTf6PdohulRCV6J3egNSHVnmcjxyGBpIYmv6HUpv2kuiFwlEqb"
        "LyBZjSGRYyQ7HbUSISShIaioVR+ZnK6kPySmohUab6BioEcdyiDLHxQm26DEoY8m6qBAKpgbDaRyJfofH6RSGbsbTqJjpnCj"
        "tSIcIMEf1qDFI3sm+hjZG4Qli5ypJIajhyFyn6OgR4+8JVmdgSIpkDQhCKKhIXqbkZu+I8KmZyCZGGQmw5+UpIYmjCSkorWM"
        "qaCAnj4W3hw2HOCh2Kg3Hw2TY6RyISonLxu7IggUIqi7okeUQRt2pJUlVZPbp9AhzaTkoKUcIRzHmrsjFqTnI8GosafnlzAk"
        "MyjcohGkAKaioFoA/yKTJQ4d2pEHEn6Ompy2KEaYqRpZJwIh6AguqIOfmyR5nk4gPCPnGwQb/pygGYcg4qDqHUEaF6OFpTsl"
        "NijIoCuJfKFYFYOaHp4LoA=="
    ),  # 511 messages, norm 0.348
}

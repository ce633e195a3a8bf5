"""The little each language needs for clauses: where a clause turns ("but"), and which words say
nothing about what was bought (function words and bare praise or blame).

A clause made only of such words ("Great product", "Tutto ok", "Polecam!") names no aspect: it
never starts a topic, though it still counts in the review's stars. The lists are general
language, not drawn from any corpus; a language without lists is split on punctuation only and
keeps every clause.
"""

from __future__ import annotations

# Words that open a new clause wherever they stand: the contrast a review turns on ("good, but ...").
TURNS: dict[str, frozenset[str]] = {
    "en": frozenset({"but", "though", "although", "however", "whereas", "except"}),
    "es": frozenset({"pero", "aunque", "sino", "excepto"}),
    "it": frozenset({"ma", "anche se", "tuttavia"}),
    "pl": frozenset({"ale", "lecz", "choć", "chociaż", "jednak", "natomiast", "tylko że"}),
    "ro": frozenset({"dar", "însă", "iar", "deși", "totuși"}),
    "de": frozenset({"aber", "jedoch", "obwohl", "allerdings", "sondern"}),
    "fr": frozenset({"mais", "pourtant", "cependant", "sauf que", "bien que", "alors que"}),
}

# Words that, leading a clause, only join it to the one before: dropped from the clause's start.
LINKS: dict[str, frozenset[str]] = {
    "en": frozenset({"and", "so", "also", "plus", "then", "yet"}),
    "es": frozenset({"y", "e", "pues", "además", "también", "eso sí", "así que", "sin embargo"}),
    "it": frozenset({"e", "ed", "però", "quindi", "inoltre", "anche", "poi", "invece"}),
    "pl": frozenset({"i", "a", "oraz", "więc", "także", "też", "poza tym"}),
    "ro": frozenset({"și", "si", "ci", "deci", "apoi", "în rest"}),
    "de": frozenset({"und", "doch", "also", "auch", "dann"}),
    "fr": frozenset({"et", "donc", "puis", "aussi", "en plus"}),
}

_EN = """a an the this that these those it its i im ive id me my mine we our us you your he she his her him they
them their is are was were be been being am do does did done have has had will would can could should shall may
might must not no nope yes very really so too quite just also still again always ever as at of in on for to with
from by about all everything anything nothing thing things stuff product products item items purchase purchased
bought buy buying good great excellent perfect perfectly nice lovely fine amazing awesome fantastic brilliant
wonderful superb decent bad terrible awful poor best better worst love loved loves like liked recommend recommended
recommendation highly thanks thank thx cheers happy satisfied pleased glad five stars star definitely absolutely
totally works work worked working grand job s t d ll ve re m ok okay super top wow overall everything's what
would'nt exactly described expected one"""
_ES = """el la los las un una unos unas lo le les me mi mis te tu su sus nos es son era fue fueron está están estaba
ser estar he ha han hay muy mucho mucha muchos muchas tan más menos todo toda todos todas nada algo y o e u de del
al a en con por para que como pero sin sí si no ya también bien bueno buena buenos buenas buenísimo genial
perfecto perfecta perfectos perfectas excelente excelentes estupendo estupenda increíble fantástico fantástica
maravilloso maravillosa mal malo mala correcto correcta correctos correctas recomiendo recomendable recomendado
recomendada repetiré repetir repito gracias encanta encantan encantó encantado encantada contento contenta
contentos satisfecho satisfecha producto productos artículo compra comprar comprado ok vale normal normalito
normalita normalitos normalitas eso esto este esta estos estas ese esa esos esas súper top"""
_IT = """il lo la i gli le un uno una l un di a da in con su per tra fra e ed o ma però che è sono era erano ho ha
hanno abbiamo mi ti si ci vi ne non molto molta molti molte tanto tanta troppo più meno anche già sempre mai tutto
tutta tutti tutte bene benissimo buono buona buoni buone buonissimo buonissima ottimo ottima ottimi ottime perfetto
perfetta perfetti perfette eccellente eccellenti bellissimo bellissima bello bella fantastico fantastica consiglio
consigliato consigliata consigliatissimo grazie soddisfatto soddisfatta soddisfatti contento contenta prodotto
prodotti articolo acquisto ok okay migliore male cattivo questo questa questi queste quello quella super top
davvero proprio"""
_PL = """i a w we z ze na do od po za o u to ten ta te tego jest są był była było były jestem się nie tak bardzo
wszystko wszystkie ok okej super polecam polecamy poleca polecana polecany godny dobry dobra dobre dobrze świetny
świetna świetne świetnie doskonały doskonała doskonale idealny idealna idealne idealnie produkt produkty produktu
towar sklep sklepu sklepie dziękuję dzięki dziekuje zadowolony zadowolona zadowoleni spoko działa działają fajny
fajna fajne fajnie jak co ale że też jeszcze już mi mnie moje mój moja naprawdę bez zarzutu rewelacja rewelacyjny
rewelacyjna najlepszy najlepsza cacy top"""
_RO = """și si sau dar iar de la din în in pe cu pentru că ca ce care un o unui unei este e sunt a am ai au fost
foarte mai tot toată toate toți totul nu da bun bună buna buni bune excelent excelentă excelenta perfect perfectă
perfecta super minunat minunată recomand recomandă recomandat mulțumesc multumesc mulțumită mulțumit multumita
multumit produs produsul produse ok încredere incredere cel cea mai ăsta asta chiar top"""
_DE = """der die das den dem des ein eine einen einem einer ist sind war waren bin hat haben habe ich wir sie es er
mir mich und oder aber auch sehr super gut gute guter gutes toll tolle toller tolles prima perfekt perfekte
ausgezeichnet empfehlenswert empfehle empfehlen danke zufrieden alles produkt artikel kauf nicht nur noch schon
immer wieder mit für von zu im in am an auf top klasse wirklich"""
_FR = """le la les l un une des du de d à au aux en dans sur pour par avec et ou mais est sont était c ce cette
ces je j me m mon ma mes nous vous il elle ils elles on très trop bien bon bonne bons bonnes parfait parfaite
excellent excellente super top génial géniale merci satisfait satisfaite contente content recommande produit
produits article achat tout tous toute toutes rien redire pas ne n plus vraiment"""

# Function words and bare praise or blame, per language (lower case, as `clauses.words` finds them).
EMPTY: dict[str, frozenset[str]] = {
    lang: frozenset(text.split())
    for lang, text in {"en": _EN, "es": _ES, "it": _IT, "pl": _PL, "ro": _RO, "de": _DE, "fr": _FR}.items()
}

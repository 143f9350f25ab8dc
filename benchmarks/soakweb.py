"""The generated web of `benchmarks.soak`: news sites with thousands of article pages,
their RSS feeds and news sitemaps, faults that can be switched on and off per page, and
a JSON webhook receiver.

Everything is generated from a seeded RNG, in memory. Sentences are put together from
short phrases with many alternatives and random names, places and numbers, so that two
generated articles share almost no word 5-grams (or frwatch would rightly fold them as
reprints). About 5 % of the articles are about facial-recognition policy.
"""

from __future__ import annotations

import html
import json
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from frwatch.localweb import Fault

# --- vocabulary ---------------------------------------------------------------------------
FIRST = ("Amara Ben Carla Dmitri Elena Farid Grace Hiro Ines Jamal Keiko Liam Maya Nadia Omar "
         "Priya Quentin Rosa Samir Tara Umar Vera Wendell Ximena Yusuf Zoe Adele Bruno Chidi "
         "Delia Emeka Fiona Gustavo Hana Ivan Joanna Kwame Lucia Marcus Nora Oscar Paloma "
         "Rafael Sofia Tobias Ursula Victor Wanda Yara Anton Beatrix Callum Dara Esther Felix "
         "Greta Hugo Isla Jonas").split()
LAST = ("Abernathy Baptiste Castellano Dlamini Eriksen Fontaine Gallagher Haddad Iwasaki "
        "Jovanovic Kowalski Lindqvist Mbeki Nakamura Okafor Petrov Quintero Rahman Sorensen "
        "Takahashi Umarov Valdez Whitaker Xu Yilmaz Zielinski Achterberg Brennan Chaudhry "
        "Delacroix Esposito Ferreira Gonzaga Holloway Ibarra Jablonski Kapoor Lachance Moreau "
        "Nwosu Oyelaran Pellegrino Radcliffe Santangelo Thibodeaux Underwood Vasquez Wojcik "
        "Yamamoto Zapata Albright Bergstrom Carvalho Donnelly Engstrom Fairweather Grimaldi "
        "Hargreaves Ishikawa Janssen").split()
PLACE_A = ("Ash Bram Cold Dun Elm Fair Glen Hart Iron Kings Lake Mill North Oak Pine Queens Red "
           "Stone Thorn West Wood Brook Clay Fox Gold High Maple Rose Silver Spring Ember "
           "Harbor Ivy Juniper Lark").split()
PLACE_B = ("ford field ton bury wick dale port haven ville mouth bridge stead worth ridge view "
           "crest hollow").split()
STATES = ("Oregon Ohio Vermont Arizona Nevada Michigan Georgia Maine Colorado Virginia Texas "
          "Minnesota Illinois Kansas Utah Iowa Oklahoma Delaware Montana Wisconsin").split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = ("January February March April May June July August September October November "
          "December").split()
TEAMS = ("Rovers United Comets Mariners Falcons Wolves Rangers Pioneers Hornets Otters Titans "
         "Foxes Harriers Lions Kestrels Badgers Stags Herons Vipers Bison").split()
COMPANY_A = ("Northwind Bluepeak Halcyon Meridian Quarry Lantern Vantage Cobalt Saltmarsh "
             "Keystone Brightwater Ironbark Tidewater Copperline Larkspur Granite Silverfin "
             "Redwood Bellweather Foxglove").split()
COMPANY_B = ("Logistics Foods Energy Holdings Motors Pharma Robotics Textiles Airlines Bank "
             "Mining Software Retail Shipping Brewing Insurance Steel Media Labs Farms").split()
ROLES = ("a spokesperson for", "the director of", "a senior analyst at", "the chair of",
         "a board member of", "the head of communications at", "a researcher at",
         "the deputy director of", "a longtime volunteer with", "the founder of",
         "an economist at", "a policy adviser at", "the treasurer of", "a lawyer for")
GROUPS = ("the {place} Residents Association", "the {state} Policy Institute",
          "the {place} Chamber of Commerce", "{company}", "the {place} Historical Society",
          "the University of {state}", "the {place} Tenants Union", "{state} Public Radio",
          "the {place} Food Bank", "the {place} Youth League", "the {state} Farm Bureau")
OPEN = ("On {weekday},", "Earlier this month,", "Late on {weekday},", "Last week,",
        "In a statement on {weekday},", "After weeks of debate,", "By the end of {month},",
        "For the first time since {year},", "Speaking on {weekday},", "In {place},",
        "Meanwhile,", "Separately,", "According to {group},", "As of {weekday} morning,",
        "Over the past {n} years,", "Despite the {weather},", "Only {n} days later,",
        "In a {adj} turn,", "Back in {month},", "Until recently,")
ADJ = ("surprising unusual long-awaited contentious modest dramatic cautious narrow sweeping "
       "overdue bruising quiet symbolic unexpected closely watched pivotal routine lively "
       "tense hopeful").split()
WEATHER = ("heavy rain", "early frost", "summer heat", "gusty winds", "snowstorm", "fog",
           "drought", "storm warnings", "cold snap", "flood alerts")
ATTRIB = ("officials said", "a spokesperson confirmed", "according to public records",
          "organisers said", "the report found", "records show", "{person} told reporters",
          "{person} said in an interview", "a statement from {group} said",
          "people familiar with the matter said", "local media reported",
          "figures released on {weekday} show", "{person} wrote in a letter")
QUOTE_OPEN = ("We have been clear from the start", "Nobody expected it to move this fast",
              "This is about trust", "The numbers speak for themselves",
              "It took far too long", "We will keep pushing", "Frankly, it was overdue",
              "There is still a lot of work ahead", "I am cautiously optimistic",
              "This changes the conversation", "People here deserve better",
              "We listened and we adjusted", "It is a step, not the finish line",
              "Honestly, we were surprised", "The details will matter")

# Per topic: subjects, verb phrases, objects, tails, title templates.
TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {
        "subj": ("the {place} City Council", "police in {place}", "the {state} attorney general",
                 "civil liberties groups in {state}", "{person}, a council member in {place},",
                 "the {place} Police Department", "a coalition of {n} advocacy groups",
                 "lawmakers in {state}", "the mayor of {place}", "a federal judge in {state}",
                 "the ACLU of {state}", "privacy advocates",
                 "{person}, who was wrongfully arrested,",
                 "the {place} school board", "a vendor called {company}",
                 "the county sheriff in {place}", "the {state} legislature"),
        "verb": ("voted {n} to {m} to ban", "approved a moratorium on", "filed a lawsuit over",
                 "paused its use of", "called for a statewide ban on", "sued the city over",
                 "demanded an audit of", "proposed strict limits on", "quietly expanded",
                 "agreed to stop using", "extended a moratorium on", "challenged",
                 "published new rules for", "held hearings on", "defended its reliance on",
                 "asked the court to halt", "won a settlement over"),
        "obj": ("facial recognition technology", "police use of facial recognition",
                "face surveillance cameras", "the department's face-matching software",
                "real-time facial recognition", "Clearview AI's image database",
                "Amazon's Rekognition service", "biometric surveillance in public spaces",
                "face recognition searches of driver's licence photos",
                "facial recognition at the {place} airport", "automated face identification",
                "a face recognition pilot at city hall", "the police facial recognition program"),
        "tail": ("after a wrongful arrest in {place}", "citing evidence of racial bias",
                 "until state lawmakers pass rules", "for at least {n} years",
                 "pending an independent review", "over objections from the police union",
                 "amid growing protests", "following a {adj} public hearing",
                 "after a study found error rates of {pct} for darker-skinned women",
                 "with a {n}-{m} vote", "despite pressure from vendors",
                 "as other cities weigh similar bans", "in a case that could set precedent",
                 "without informing the public", "weeks after {company} halted sales"),
        "title": ("{place} council votes to ban police facial recognition",
                  "Lawsuit challenges {place} police use of face recognition",
                  "{state} lawmakers weigh moratorium on facial recognition",
                  "{place} extends facial recognition ban for {n} more years",
                  "Wrongful arrest in {place} fuels calls to ban face surveillance",
                  "{company} halts facial recognition sales to {place} police",
                  "{place} police quietly used Clearview AI, records show",
                  "Judge in {state} blocks facial recognition searches by {place} police",
                  "{place} becomes latest city to bar face surveillance",
                  "Activists press {place} for facial recognition moratorium"),
    },
    "council": {
        "subj": ("the {place} city council", "county commissioners", "the mayor of {place}",
                 "{person}, the council's finance chair,", "residents of {place}",
                 "the planning board", "the {place} transit authority", "{n} councillors",
                 "the city manager", "state auditors"),
        "verb": ("approved", "delayed a vote on", "rejected", "debated", "agreed to fund",
                 "cut funding for", "postponed", "reopened talks on", "signed off on",
                 "raised concerns about"),
        "obj": ("a {money} budget", "new bike lanes on Main Street", "a property tax increase",
                "the library renovation", "a rezoning plan for the waterfront",
                "plans for a new fire station", "a parking permit scheme", "the sewer upgrade",
                "a youth jobs programme", "repairs to the {place} bridge"),
        "tail": ("after a {adj} meeting", "by a {n}-{m} vote", "ahead of the election",
                 "despite a budget shortfall", "to the relief of local businesses",
                 "after {n} hours of public comment", "with little discussion",
                 "pending a traffic study"),
        "title": ("{place} council approves {money} budget after late-night session",
                  "{place} delays vote on waterfront rezoning",
                  "Property tax rise splits {place} councillors",
                  "{place} mayor {person} unveils plan for new fire station",
                  "Bike lanes coming to {place} despite objections",
                  "{place} residents pack hearing on sewer upgrade"),
    },
    "sport": {
        "subj": ("the {place} {team}", "{person}", "the visiting side", "the coach",
                 "the {team} defence", "a {n}-year-old substitute", "the home crowd",
                 "the league", "{person}, the captain,", "the goalkeeper"),
        "verb": ("beat", "held off", "drew with", "lost narrowly to", "thrashed",
                 "came from behind against", "was frustrated by", "edged past",
                 "outplayed", "bounced back against"),
        "obj": ("the {place} {team}", "their local rivals", "the league leaders",
                "a depleted {team} side", "last season's champions", "the {state} {team}"),
        "tail": ("with a late goal", "in front of {n},000 fans", "to climb to {ord} place",
                 "despite a red card", "in extra time", "on a wet pitch",
                 "to extend their unbeaten run to {n} games", "after a goalless first half",
                 "in the {ord} round of the cup"),
        "title": ("{place} {team} beat {team} {n}-{m} to stay top",
                  "Late goal lifts {place} {team} past rivals",
                  "{person} scores twice as {team} cruise to win",
                  "{place} {team} sack coach after {n} straight defeats",
                  "Cup upset: {place} {team} knock out champions",
                  "{team} captain {person} signs {n}-year extension"),
    },
    "weather": {
        "subj": ("forecasters", "the National Weather Service", "farmers near {place}",
                 "emergency crews", "residents along the river", "the {state} highway patrol",
                 "meteorologist {person}", "the {place} school district", "utility crews"),
        "verb": ("warned of", "cleared", "braced for", "reported", "issued an alert about",
                 "struggled with", "recorded", "prepared for"),
        "obj": ("{n} inches of snow", "flooding on low-lying roads", "widespread power cuts",
                "record temperatures", "fallen trees", "hail the size of golf balls",
                "black ice on the interstate", "a {n}-day heatwave"),
        "tail": ("across {state}", "overnight", "before the weekend", "near {place}",
                 "for the {ord} time this year", "as temperatures dropped to {n} degrees",
                 "while schools stayed closed"),
        "title": ("Storm leaves {n},000 without power in {place}",
                  "{place} swelters as temperatures hit {n} degrees",
                  "Flood warnings issued for rivers near {place}",
                  "Snow closes schools across {place} and {state} suburbs",
                  "Drought forces water limits in {place}"),
    },
    "business": {
        "subj": ("{company}", "shares of {company}", "the {place} factory", "investors",
                 "the chief executive, {person},", "analysts at {company}", "retailers in {place}",
                 "the central bank", "small businesses", "the union"),
        "verb": ("reported", "announced", "warned of", "cut", "raised", "posted",
                 "agreed to buy", "shelved plans for", "expects", "lobbied against"),
        "obj": ("quarterly profit of {money}", "{n} job cuts", "a new warehouse in {place}",
                "higher fuel costs", "a {pct} rise in sales", "its full-year forecast",
                "a rival for {money}", "weaker demand", "prices", "interest rates"),
        "tail": ("amid slowing growth", "in a filing on {weekday}", "beating expectations",
                 "for the {ord} straight quarter", "as costs climbed",
                 "sending its stock up {pct}", "after months of talks"),
        "title": ("{company} to cut {n} jobs at {place} plant",
                  "{company} profit rises {pct} on strong demand",
                  "{company} agrees {money} takeover of rival",
                  "{place} retailers brace for slow holiday season",
                  "{company} opens new warehouse in {place}"),
    },
    "health": {
        "subj": ("the {place} hospital", "doctors", "public health officials",
                 "nurses at {place} General", "the health department", "researchers",
                 "{person}, a paediatrician,", "the clinic", "pharmacies in {place}"),
        "verb": ("reported", "urged residents to get", "expanded", "recorded",
                 "cut waiting times for",
                 "launched", "warned about", "opened"),
        "obj": ("flu vaccines", "a rise in measles cases", "a new maternity ward",
                "mental-health services", "{n} new cases", "free screenings",
                "a shortage of antibiotics", "a walk-in clinic"),
        "tail": ("this winter", "in {place}", "for the {ord} week running",
                 "after funding from the state", "as demand grew", "ahead of the holidays"),
        "title": ("{place} hospital opens new maternity ward",
                  "Flu cases climb in {place} as officials urge vaccines",
                  "Nurses at {place} General vote to strike",
                  "{place} clinic cuts waiting times by {pct}",
                  "Measles outbreak reported in {place} schools"),
    },
    "education": {
        "subj": ("the {place} school board", "teachers", "students at {place} High",
                 "the superintendent, {person},", "parents", "the university", "the district"),
        "verb": ("approved", "protested", "unveiled", "raised", "cancelled", "expanded",
                 "celebrated", "cut"),
        "obj": ("a new reading curriculum", "tuition by {pct}", "bus routes", "free school meals",
                "a {money} science building", "class sizes", "graduation rates",
                "after-school programmes"),
        "tail": ("for next year", "after complaints from parents", "in a {n}-{m} vote",
                 "despite staffing shortages", "for the {ord} year", "across {state}"),
        "title": ("{place} schools to expand free meals",
                  "Teachers in {place} protest class sizes",
                  "{place} High students win {state} science fair",
                  "University of {state} raises tuition {pct}",
                  "{place} superintendent {person} announces retirement"),
    },
    "culture": {
        "subj": ("the {place} museum", "the orchestra", "novelist {person}",
                 "the film festival", "a local theatre company", "the gallery", "critics",
                 "the {place} library"),
        "verb": ("opened", "premiered", "celebrated", "cancelled", "announced", "restored",
                 "acquired", "toured"),
        "obj": ("a retrospective of {person}", "a new opera", "its {ord} season",
                "a rare manuscript", "{n} paintings", "a jazz programme", "a mural"),
        "tail": ("to packed houses", "after a {money} donation", "this spring",
                 "in {place}", "for the first time in {n} years", "to mixed reviews"),
        "title": ("{place} museum opens {person} retrospective",
                  "Orchestra premieres new work by {person}",
                  "{place} film festival announces {n} premieres",
                  "Restored mural unveiled in {place}",
                  "{place} library acquires rare {state} manuscript"),
    },
    "transport": {
        "subj": ("the {place} transit authority", "commuters", "the rail operator",
                 "the airport", "road crews", "the {state} transport department", "cyclists"),
        "verb": ("announced", "faced", "reopened", "delayed", "raised fares on", "added",
                 "closed", "complained about"),
        "obj": ("the {place} line", "a new bus route", "the ring road", "{n} extra trains",
                "the bridge", "weekend services", "a new terminal", "parking charges"),
        "tail": ("for repairs", "after signal failures", "from {month}", "during the works",
                 "by {pct}", "between {place} and {place}"),
        "title": ("{place} line closed for {n} weeks of repairs",
                  "Fares on {place} buses to rise {pct}",
                  "{place} airport opens new terminal",
                  "New bus route links {place} and {place}",
                  "Commuters face delays as {place} bridge shuts"),
    },
    "science": {
        "subj": ("astronomers", "researchers at the University of {state}",
                 "a team led by {person}",
                 "biologists", "volunteers", "the observatory", "geologists"),
        "verb": ("discovered", "measured", "tracked", "mapped", "identified", "published",
                 "observed"),
        "obj": ("a new species of beetle", "a distant comet", "ancient pottery near {place}",
                "rising river temperatures", "a {n}-million-year-old fossil",
                "migrating birds", "a study on soil health"),
        "tail": ("in the journal Nature", "near {place}", "over {n} years",
                 "using a new telescope", "with help from students", "last {month}"),
        "title": ("Fossil found near {place} is {n} million years old",
                  "{state} researchers map {place} river temperatures",
                  "Astronomers at {place} observatory spot new comet",
                  "New beetle species named after {person}",
                  "Volunteers count record {n} birds near {place}"),
    },
    "housing": {
        "subj": ("house prices in {place}", "renters", "developers", "the housing authority",
                 "estate agents", "the council", "{person}, a first-time buyer,"),
        "verb": ("rose", "fell", "proposed", "protested", "approved", "completed", "warned about"),
        "obj": ("{n} new homes", "rent controls", "a tower on the old mill site",
                "affordable flats", "a {pct} jump", "eviction rates", "a mortgage scheme"),
        "tail": ("last quarter", "in {place}", "despite higher rates", "on the waterfront",
                 "for the {ord} month", "after years of delays"),
        "title": ("House prices in {place} rise {pct} in a year",
                  "{n} new homes approved for {place} mill site",
                  "{place} renters rally for rent controls",
                  "Developer {company} breaks ground in {place}",
                  "{place} housing waiting list hits record {n}"),
    },
}
OTHER_TOPICS = [t for t in TOPICS if t != "fr"]
SECTION_OF = {"fr": "technology", "council": "politics", "sport": "sport", "weather": "weather",
              "business": "business", "health": "health", "education": "education",
              "culture": "culture", "transport": "transport", "science": "science",
              "housing": "housing"}
ORDINALS = ("second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth").split()
_SLOT = re.compile(r"\{(\w+)\}")


class Writer:
    """Generates articles with a seeded RNG."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.titles: set[str] = set()

    def _fill(self, template: str) -> str:
        r = self.rng

        def slot(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "place":
                return r.choice(PLACE_A) + r.choice(PLACE_B)
            if name == "person":
                return f"{r.choice(FIRST)} {r.choice(LAST)}"
            if name == "state":
                return r.choice(STATES)
            if name == "company":
                return f"{r.choice(COMPANY_A)} {r.choice(COMPANY_B)}"
            if name == "group":
                return self._fill(r.choice(GROUPS))
            if name == "team":
                return r.choice(TEAMS)
            if name == "weekday":
                return r.choice(WEEKDAYS)
            if name == "month":
                return r.choice(MONTHS)
            if name == "year":
                return str(r.randint(1975, 2019))
            if name in ("n", "m"):
                return str(r.randint(2, 60))
            if name == "pct":
                return f"{r.randint(2, 48)} percent"
            if name == "money":
                return f"${r.randint(2, 900)} {r.choice(('million', 'thousand', 'billion'))}"
            if name == "ord":
                return r.choice(ORDINALS)
            if name == "adj":
                return r.choice(ADJ)
            if name == "weather":
                return r.choice(WEATHER)
            raise KeyError(name)

        return _SLOT.sub(slot, template)

    def sentence(self, topic: str) -> str:
        r, t = self.rng, TOPICS[topic]
        form = r.random()
        if form < 0.45:
            text = (f"{r.choice(OPEN)} {r.choice(t['subj'])} {r.choice(t['verb'])} "
                    f"{r.choice(t['obj'])} {r.choice(t['tail'])}.")
        elif form < 0.75:
            text = (f"{r.choice(t['subj'])} {r.choice(t['verb'])} {r.choice(t['obj'])}, "
                    f"{r.choice(ATTRIB)}.")
        elif form < 0.9:
            text = (f"\u201c{r.choice(QUOTE_OPEN)}, and {r.choice(t['obj'])} "
                    f"{r.choice(t['tail'])},\u201d said {{person}}, {r.choice(ROLES)} "
                    f"{r.choice(GROUPS)}.")
        else:
            text = (f"{r.choice(t['subj'])} {r.choice(t['verb'])} {r.choice(t['obj'])} "
                    f"{r.choice(t['tail'])}, while {r.choice(t['subj'])} "
                    f"{r.choice(t['verb'])} {r.choice(t['obj'])}.")
        text = self._fill(text)
        first = 1 if text.startswith("\u201c") else 0
        return text[:first] + text[first].upper() + text[first + 1:]

    def title(self, topic: str) -> str:
        for attempt in range(50):
            title = self._fill(self.rng.choice(TOPICS[topic]["title"]))
            if attempt > 10:
                title += f" ({self._fill('{place}')})"
            if title not in self.titles:
                self.titles.add(title)
                return title
        raise RuntimeError("could not make a unique title")

    def article(self, topic: str) -> tuple[str, list[str]]:
        """A unique title and 4-8 paragraphs, 250-500 words in all."""
        r = self.rng
        title = self.title(topic)
        target = r.randint(250, 500)
        sentences: list[str] = []
        words = 0
        while words < target or len(sentences) < 8:
            # Facial-recognition stories carry some general council news too.
            use = topic if topic != "fr" or len(sentences) < 3 or r.random() < 0.7 else "council"
            s = self.sentence(use)
            sentences.append(s)
            words += len(s.split())
        count = r.randint(4, 8)
        cuts = sorted(r.sample(range(1, len(sentences)), count - 1))
        paragraphs = [" ".join(sentences[a:b]) for a, b in
                      zip([0, *cuts], [*cuts, len(sentences)], strict=True)]
        return title, paragraphs


# --- pages ---------------------------------------------------------------------------------
@dataclass
class Page:
    site: str
    path: str
    title: str
    topic: str
    published: datetime
    author: str
    description: str
    wave: int
    body: bytes = b""


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:70].rstrip("-")


_STYLE = ("body{font-family:Georgia,serif;margin:0}.layout{display:flex;gap:2em}main{flex:3}"
          "aside{flex:1;font-size:.9em}.masthead{background:#123;color:#fff;padding:1em}"
          "nav ul{list-style:none;display:flex;gap:1em}footer{background:#eee;padding:2em}")


def render_article(site: SiteInfo, page: Page, paragraphs: list[str],
                   most_read: list[Page]) -> bytes:
    e = html.escape
    origin = f"http://{site.name}.demo"
    section = page.path.split("/")[1]
    nav = "\n".join(f'      <li><a href="{origin}/{s}/">{s.title()}</a></li>'
                    for s in site.sections)
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    rail = "\n".join(f'        <li><a href="{origin}{p.path}">{e(p.title)}</a></li>'
                     for p in most_read)
    iso = page.published.isoformat()
    human = page.published.strftime("%B %d, %Y %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(page.title)} | {e(site.title)}</title>
<meta name="description" content="{e(page.description)}">
<meta name="author" content="{e(page.author)}">
<meta property="og:site_name" content="{e(site.title)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{e(page.title)}">
<meta property="article:published_time" content="{iso}">
<meta property="article:section" content="{section.title()}">
<link rel="canonical" href="{origin}{page.path}">
<link rel="alternate" type="application/rss+xml" title="{e(site.title)}" href="{origin}/rss.xml">
<style>{_STYLE}</style>
<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{"section":"{section}"}});</script>
</head>
<body>
<div class="cookie-banner">We use cookies to measure audiences and personalise advertising.
 <a href="{origin}/privacy/">Cookie policy</a> <button>Accept</button></div>
<header class="masthead">
  <a class="logo" href="{origin}/">{e(site.title)}</a>
  <p class="tagline">{e(site.tagline)}</p>
  <a class="subscribe" href="{origin}/subscribe/">Subscribe</a>
</header>
<nav class="main-nav">
  <ul>
      <li><a href="{origin}/">Home</a></li>
{nav}
  </ul>
</nav>
<div class="breadcrumbs"><a href="{origin}/">Home</a> &rsaquo;
 <a href="{origin}/{section}/">{section.title()}</a></div>
<div class="layout">
<main>
<article class="story">
<header>
<h1 class="headline">{e(page.title)}</h1>
<p class="byline">By <span class="author">{e(page.author)}</span> &middot;
 <time datetime="{iso}">{human}</time></p>
</header>
<div class="story-body">
{body}
</div>
<p class="tags">More on: <a href="{origin}/{section}/">{section.title()}</a></p>
</article>
<section class="share">Share this story: <a href="#">Email</a> <a href="#">Copy link</a></section>
</main>
<aside class="sidebar">
  <div class="most-read">
    <h3>Most read</h3>
    <ol>
{rail}
    </ol>
  </div>
  <div class="newsletter"><h3>The morning briefing</h3><p>The day's top stories from
   {e(site.title)} in your inbox before breakfast.</p>
   <a href="{origin}/newsletters/">Sign up</a></div>
</aside>
</div>
<footer>
  <p>&copy; {e(site.title)}. All rights reserved.</p>
  <ul><li><a href="{origin}/about/">About us</a></li>
  <li><a href="{origin}/contact/">Contact</a></li>
  <li><a href="{origin}/privacy/">Privacy</a></li><li><a href="{origin}/terms/">Terms</a></li></ul>
</footer>
</body>
</html>
""".encode()


@dataclass
class SiteInfo:
    name: str
    title: str
    tagline: str
    listing: str                    # "rss", "sitemap", "index" (sitemap index) or "both"
    utm_links: bool
    sections: list[str]
    pages: list[Page] = field(default_factory=list)

    def source(self) -> dict:
        origin = f"http://{self.name}.demo"
        entry: dict = {"name": self.title}
        if self.listing in ("rss", "both"):
            entry["feeds"] = [f"{origin}/rss.xml"]
        if self.listing in ("sitemap", "both"):
            entry["sitemaps"] = [f"{origin}/news-sitemap.xml"]
        if self.listing == "index":
            entry["sitemaps"] = [f"{origin}/sitemap-index.xml"]
        return entry


def render_rss(site: SiteInfo, pages: list[Page], built: datetime) -> bytes:
    e = html.escape
    origin = f"http://{site.name}.demo"
    items = []
    for p in sorted(pages, key=lambda p: p.published, reverse=True):
        link = origin + p.path + ("?utm_source=rss&amp;utm_medium=feed" if site.utm_links else "")
        items.append(f"""    <item>
      <title>{e(p.title)}</title>
      <link>{link}</link>
      <guid isPermaLink="false">{site.name}-{p.path.rsplit('/', 1)[-1]}</guid>
      <pubDate>{format_datetime(p.published)}</pubDate>
      <dc:creator>{e(p.author)}</dc:creator>
      <description>{e(p.description)}</description>
    </item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{e(site.title)}</title>
    <link>{origin}/</link>
    <description>Latest stories from {e(site.title)}</description>
    <language>en</language>
    <lastBuildDate>{format_datetime(built)}</lastBuildDate>
{chr(10).join(items)}
  </channel>
</rss>
""".encode()


def render_news_sitemap(site: SiteInfo, pages: list[Page], stamp: str = "") -> bytes:
    e = html.escape
    origin = f"http://{site.name}.demo"
    urls = []
    for p in sorted(pages, key=lambda p: p.published, reverse=True):
        urls.append(f"""  <url>
    <loc>{origin}{p.path}</loc>
    <news:news>
      <news:publication><news:name>{e(site.title)}</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>{p.published.isoformat()}</news:publication_date>
      <news:title>{e(p.title)}</news:title>
    </news:news>
  </url>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{f"<!-- {stamp} -->" if stamp else ""}
{chr(10).join(urls)}
</urlset>
""".encode()


def render_sitemap_index(site: SiteInfo, built: datetime) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://{site.name}.demo/news-sitemap.xml</loc><lastmod>{built.isoformat()}</lastmod></sitemap>
</sitemapindex>
""".encode()


ROBOTS = b"User-agent: *\nDisallow: /private/\nDisallow: /subscribe/\n"


# --- a site whose pages can misbehave ------------------------------------------------------
class FaultySite(dict):
    """A LocalWeb site (path -> (content_type, body)) with faults laid over some paths:
    `faults` answer every request until cleared; `transient` answer only the first
    `count` requests, then the real page is served. Requests are counted per path."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: dict[str, Fault] = {}
        self.transient: dict[str, list] = {}   # path -> [fault, requests left to fail]
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __getitem__(self, path: str):
        with self._lock:
            self.hits[path] += 1
            pending = self.transient.get(path)
            if pending and pending[1] > 0:
                pending[1] -= 1
                return pending[0]
            fault = self.faults.get(path)
        if fault is not None:
            return fault
        return super().__getitem__(path)


# --- the web --------------------------------------------------------------------------------
PAPER = ("Courier Gazette Herald Chronicle Tribune Observer Ledger Sentinel Post Times Record "
         "Bulletin Examiner Dispatch Register Journal Advertiser Mercury Standard Star").split()


class SoakWeb:
    """`sites` generated sites; `publish(wave, n)` adds n new article pages across them."""

    def __init__(self, sites: int, seed: int = 1):
        self.rng = random.Random(seed)
        self.writer = Writer(random.Random(seed + 1))
        self.sites: list[SiteInfo] = []
        self.content: dict[str, FaultySite] = {}
        used = set()
        kinds = ("rss", "rss", "sitemap", "rss", "both", "index", "rss", "sitemap")
        for i in range(sites):
            while True:
                town = self.rng.choice(PLACE_A) + self.rng.choice(PLACE_B)
                paper = PAPER[i % len(PAPER)]
                if town not in used:
                    used.add(town)
                    break
            name = f"{town.lower()}-{paper.lower()}"
            sections = sorted(set(SECTION_OF.values()))
            self.sites.append(SiteInfo(
                name=name, title=f"The {town} {paper}",
                tagline=f"News for {town} and the {self.rng.choice(STATES)} valley since "
                        f"{self.rng.randint(1850, 1990)}",
                listing=kinds[i % len(kinds)], utm_links=i % 3 == 0, sections=sections))
            site = FaultySite()
            site["/robots.txt"] = ("text/plain; charset=utf-8", ROBOTS)
            self.content[name] = site
        self.pages: list[Page] = []
        self.start = datetime(2024, 1, 8, 6, 0, tzinfo=UTC)

    def publish(self, wave: int, count: int, days: int = 10) -> list[Page]:
        """`count` new pages dated within wave `wave`'s `days` days; listings grow."""
        r = self.rng
        new = []
        first_day = self.start + timedelta(days=(wave - 1) * days)
        for i in range(count):
            site = self.sites[i % len(self.sites)] if i < len(self.sites) else r.choice(self.sites)
            topic = "fr" if r.random() < 0.05 else r.choice(OTHER_TOPICS)
            title, paragraphs = self.writer.article(topic)
            published = first_day + timedelta(seconds=r.randint(0, days * 86400 - 1))
            section = SECTION_OF[topic]
            path = (f"/{section}/{published:%Y/%m}/{slugify(title)}-{r.randint(10**5, 10**6 - 1)}"
                    ".html")
            page = Page(site=site.name, path=path, title=title, topic=topic,
                        published=published, author=self.writer._fill("{person}"),
                        description=paragraphs[0].split(". ")[0].rstrip(".") + ".", wave=wave)
            rail = r.sample(site.pages, min(5, len(site.pages)))
            page.body = render_article(site, page, paragraphs, rail)
            site.pages.append(page)
            self.content[site.name][path] = ("text/html; charset=utf-8", page.body)
            page.body = b""  # kept once, in the site dict
            new.append(page)
        self.pages.extend(new)
        self.rebuild_listings(self.start + timedelta(days=wave * days))
        return new

    def rebuild_listings(self, built: datetime, stamp: str = "") -> None:
        """Every site's feed and sitemaps list all its pages; `stamp` (a comment in the
        sitemaps, with `built` as the feed's lastBuildDate) changes them without adding
        entries."""
        for site in self.sites:
            content = self.content[site.name]
            if site.listing in ("rss", "both"):
                content["/rss.xml"] = ("application/rss+xml", render_rss(site, site.pages, built))
            if site.listing in ("sitemap", "both", "index"):
                content["/news-sitemap.xml"] = ("application/xml",
                                                render_news_sitemap(site, site.pages, stamp))
            if site.listing == "index":
                content["/sitemap-index.xml"] = ("application/xml",
                                                 render_sitemap_index(site, built))

    def sources(self) -> list[dict]:
        return [site.source() for site in self.sites]


# --- a JSON webhook receiver ------------------------------------------------------------------
class Receiver:
    """Counts the JSON POSTs apprise sends, per path, on 127.0.0.1."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"raw": body.decode("utf-8", "replace")}
                with receiver._lock:
                    receiver.posts.append((self.path, payload))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True,
                         name="soak-webhook").start()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

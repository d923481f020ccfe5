"""The gallery: one card per study."""
import base64
from pathlib import Path

import panel as pn

pn.extension()

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "thumbnails"
STUDIES = [
    ("grokking", "Grokking on modular addition",
     "Memorise in 100 steps, generalise hundreds later: watch neurons lock onto Fourier frequencies."),
    ("clustering_heads", "Clustering heads",
     "A transformer with 2-D embeddings learns sparse modular addition: watch sequences gather into clusters."),
    ("flow_matching", "Flow matching in 2-D",
     "Which source distribution? Watch particles flow onto the data, and see how the source shapes the paths."),
    ("flow_compare", "Flow matching: two sources side by side",
     "Two runs train at once on the same target: misaligned against aligned norms, or any pair you choose."),
    ("hopfield", "Hopfield networks",
     "Watch a corrupted memory fall back into place; measure capacity (the 0.138 line) and basins live."),
    ("associative_memory", "Associative memories: scaling laws",
     "Memories of five sizes learn Zipf-distributed facts side by side: the error falls as a power law in d."),
]
COMING: list[tuple[str, str]] = []


CARD_STYLE = "padding:14px;border:1px solid #ccc;border-radius:8px;box-sizing:border-box;width:100%"


def _thumbnail(name: str) -> str:
    path = ASSETS / f"{name}.png"
    if not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<img src="data:image/png;base64,{data}" alt="" '
            'style="display:block;max-width:100%;border-radius:6px;border:1px solid #ddd">')


def card(slug: str, title: str, text: str):
    html = (f'<div style="{CARD_STYLE}"><a href="./{slug}" style="text-decoration:none;color:inherit">'
            f'{_thumbnail(slug)}<h3 style="margin:10px 0 4px;font-size:18px">{title}</h3>'
            f'<p style="margin:0;color:#444;font-size:14px">{text}</p></a></div>')
    return pn.pane.HTML(html, width=400)


def coming(title: str, text: str):
    html = (f'<div style="{CARD_STYLE};border-style:dashed"><h3 style="margin:0 0 4px;color:#888;font-size:18px">'
            f'{title}</h3><p style="margin:0;color:#888;font-size:14px">{text} (coming)</p></div>')
    return pn.pane.HTML(html, width=400)


intro = pn.pane.Markdown("""# Training-dynamics sandbox
Small research models training live in your browser, with the metrics from their papers.
Pick a study, choose a preset, press **Start**, and change the learning rate or weight decay while it trains.""",
                         styles={"font-size": "15px"})
gallery = pn.FlexBox(*[card(*s) for s in STUDIES], *[coming(*c) for c in COMING])
pn.template.BootstrapTemplate(title="Training-dynamics sandbox", main=[intro, gallery], busy_indicator=None,
                              header_background="#1f5f99").servable()

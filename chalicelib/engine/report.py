"""Write an Analysis as CSV (one row per sample) or as a self-contained HTML report.

The HTML report has no external references (no CDN, no fonts): the data is embedded as JSON and a small
script draws the emotion-over-time chart as SVG, with a hover readout of every value at that moment.
"""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any

from chalicelib.engine.labels import LABELS

COLORS = {
    "angry": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "happy": "#2ca02c",
    "sad": "#1f77b4",
    "surprise": "#ff7f0e",
    "neutral": "#7f7f7f",
}


def to_csv(analysis: dict[str, Any]) -> str:
    """Per-sample rows: time, face count, the mean probability of each expression, the dominant one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["t", "faces", *LABELS, "dominant"])
    for sample in analysis["timeline"]:
        emotions = sample.get("emotions") or {}
        values = [emotions.get(label, "") for label in LABELS]
        dominant = max(emotions, key=emotions.__getitem__) if emotions else ""
        writer.writerow([sample["t"], sample["faces"], *values, dominant])
    return out.getvalue()


def to_html(analysis: dict[str, Any], title: str) -> str:
    """A single HTML file with the summary cards and the interactive emotion-over-time chart."""
    summary = analysis["summary"]
    data = json.dumps(
        {"labels": analysis["labels"], "timeline": analysis["timeline"], "colors": COLORS,
         "duration": analysis["video"]["duration"]},
        separators=(",", ":"),
    ).replace("</", "<\\/")
    cards = "".join(
        f'<div class="card"><div class="k">{html.escape(k)}</div><div class="v">{html.escape(v)}</div></div>'
        for k, v in _cards(analysis)
    )
    moments = "".join(
        f"<li>{m['t']:.1f} s &mdash; {html.escape(m['label'])} ({m['score']:.2f})</li>"
        for m in summary["key_moments"]
    ) or "<li>none</li>"
    distribution = "".join(
        f'<div class="bar"><span>{label}</span><i style="width:{100 * share:.1f}%;background:{COLORS[label]}">'
        f"</i><b>{100 * share:.1f}%</b></div>"
        for label, share in summary["distribution"].items()
    )
    return _TEMPLATE.format(
        title=html.escape(title), cards=cards, moments=moments, distribution=distribution, data=data,
        legend="".join(f'<span style="color:{COLORS[label]}">&#9632; {label}</span> ' for label in LABELS),
    )


def _cards(analysis: dict[str, Any]) -> list[tuple[str, str]]:
    s, v = analysis["summary"], analysis["video"]
    return [
        ("Dominant emotion", s["dominant"] or "no face"),
        ("Valence", f"{s['valence']:+.2f}"),
        ("Expressiveness", f"{s['expressiveness']:.2f}"),
        ("Face presence", f"{100 * s['face_presence']:.0f}%"),
        ("Faces tracked", str(len(analysis["faces"]))),
        ("Duration", f"{v['duration']:.1f} s"),
    ]


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Emotionfy report: {title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#222}}
.cards{{display:flex;flex-wrap:wrap;gap:.75rem}}.card{{border:1px solid #ddd;border-radius:8px;padding:.6rem 1rem}}
.k{{font-size:.8rem;color:#666}}.v{{font-size:1.3rem;font-weight:600}}
figure{{margin:1.5rem 0;position:relative}}svg{{width:100%;height:auto;background:#fafafa;border:1px solid #eee}}
#tip{{position:absolute;pointer-events:none;background:#fff;border:1px solid #aaa;border-radius:6px;
padding:.4rem .6rem;font-size:.8rem;display:none;white-space:nowrap}}
.bar{{display:flex;align-items:center;gap:.5rem;margin:.2rem 0}}.bar span{{width:5rem}}
.bar i{{display:inline-block;height:.8rem}}.bar b{{font-weight:400;font-size:.8rem}}
</style></head><body>
<h1>Emotionfy report: {title}</h1>
<div class="cards">{cards}</div>
<figure aria-label="Emotion timeline"><figcaption>Emotions over time (mean over faces). {legend}</figcaption>
<svg id="chart" viewBox="0 0 1000 320" role="img" aria-label="emotion timeline chart"></svg>
<div id="tip" role="status"></div></figure>
<h2>Distribution</h2>{distribution}
<h2>Key moments</h2><ul>{moments}</ul>
<script id="data" type="application/json">{data}</script>
<script>
(function(){{
const D=JSON.parse(document.getElementById('data').textContent);
const svg=document.getElementById('chart'),tip=document.getElementById('tip');
const W=1000,H=320,L=40,R=10,T=10,B=30,dur=Math.max(D.duration,1e-6);
const x=t=>L+(W-L-R)*t/dur,y=v=>T+(H-T-B)*(1-v);const NS='http://www.w3.org/2000/svg';
function el(n,a){{const e=document.createElementNS(NS,n);for(const k in a)e.setAttribute(k,a[k]);svg.appendChild(e);return e;}}
for(let v=0;v<=1.001;v+=0.25){{el('line',{{x1:L,x2:W-R,y1:y(v),y2:y(v),stroke:'#ddd'}});
el('text',{{x:4,y:y(v)+4,'font-size':11}}).textContent=v.toFixed(2);}}
for(let i=0;i<=10;i++){{const t=dur*i/10;el('text',{{x:x(t)-8,y:H-8,'font-size':11}}).textContent=t.toFixed(1)+'s';}}
for(const lab of D.labels){{let d='',pen=false;for(const s of D.timeline){{
if(!s.emotions){{pen=false;continue;}}d+=(pen?'L':'M')+x(s.t).toFixed(1)+' '+y(s.emotions[lab]).toFixed(1);pen=true;}}
el('path',{{d:d,fill:'none',stroke:D.colors[lab],'stroke-width':1.8}});}}
const cur=el('line',{{y1:T,y2:H-B,stroke:'#333','stroke-dasharray':'3 3',visibility:'hidden'}});
svg.addEventListener('mousemove',ev=>{{const r=svg.getBoundingClientRect();const px=(ev.clientX-r.left)*W/r.width;
const t=(px-L)/(W-L-R)*dur;let best=null;for(const s of D.timeline){{if(!best||Math.abs(s.t-t)<Math.abs(best.t-t))best=s;}}
if(!best)return;cur.setAttribute('x1',x(best.t));cur.setAttribute('x2',x(best.t));cur.setAttribute('visibility','visible');
let h='<b>'+best.t.toFixed(2)+' s</b> &middot; '+best.faces+' face(s)';
if(best.emotions){{for(const lab of D.labels)h+='<br><span style="color:'+D.colors[lab]+'">&#9632;</span> '+lab+': '
+(100*best.emotions[lab]).toFixed(1)+'%';}}tip.innerHTML=h;tip.style.display='block';
tip.style.left=Math.min(ev.clientX-r.left+12,r.width-160)+'px';tip.style.top=(ev.clientY-r.top+12)+'px';}});
svg.addEventListener('mouseleave',()=>{{tip.style.display='none';cur.setAttribute('visibility','hidden');}});
}})();
</script></body></html>
"""

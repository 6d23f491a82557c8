"""The lineage graph of a variant, drawn: ancestors left, descendants right, edges
labelled derived / refined / forked (severed ones are not drawn). Clicking a node
emits :attr:`LineageView.node_clicked` with its asset and variant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QResizeEvent,
    QTransform,
)
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from studio.core.space import Space
from studio.store import records as r
from studio.ui.details.lineage_layout import (
    Edge,
    LineageLayout,
    Link,
    layout_lineage,
    walk_lineage,
)
from studio.ui.details.thumbs import load_thumb

NODE_W = 128.0
NODE_H = 80.0
THUMB = 54
MIN_SCALE = 0.5
RELATION_COLOURS = {"derived": "#d9a441", "refined": "#4aa3df", "forked": "#9b7bd4"}


@dataclass(frozen=True, slots=True)
class NodeInfo:
    variant_id: str
    asset_id: str
    asset_name: str
    status: str
    thumb_path: str | None  # relative to the space's media dir


def fetch_links(space: Space, variant_ids: Sequence[str]) -> list[r.LineageRow]:
    """Live (both ends not deleted), unsevered links touching any of ``variant_ids``."""
    if not variant_ids:
        return []
    return space.read.live_links(variant_ids, severed=False)


def node_infos(space: Space, variant_ids: Sequence[str]) -> dict[str, NodeInfo]:
    """Asset, name, status and thumbnail of each variant, in one query."""
    labels = space.read.variant_labels(variant_ids)
    return {vid: NodeInfo(*lb[:5]) for vid, lb in labels.items()}


def build_layout(space: Space, variant_id: str) -> tuple[LineageLayout, dict[str, NodeInfo]]:
    def fetch(ids: Sequence[str]) -> list[Link]:
        return list(fetch_links(space, ids))

    graph = walk_lineage(variant_id, fetch)
    layout = layout_lineage(graph, column_w=NODE_W + 46, row_h=NODE_H + 18)
    return layout, node_infos(space, graph.nodes)


class LineageNodeItem(QGraphicsRectItem):
    def __init__(self, info: NodeInfo, pixmap: QPixmap | None, is_root: bool) -> None:
        super().__init__(0, 0, NODE_W, NODE_H)
        self.info = info
        self.is_root = is_root
        self._fill = QColor("#2d3340" if is_root else "#262a33")
        self.setBrush(QBrush(self._fill))
        self.setPen(QPen(QColor("#3a7bd5" if is_root else "#444b58"), 2.0 if is_root else 1.0))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAcceptHoverEvents(True)
        where = "this variant" if is_root else "click to show this asset"
        self.setToolTip(f"{info.asset_name}\n{info.status} · {where}")
        if pixmap is not None and not pixmap.isNull():
            pm = pixmap.scaled(
                THUMB,
                THUMB,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            thumb = QGraphicsPixmapItem(pm, self)
            thumb.setPos((NODE_W - pm.width()) / 2, 4 + (THUMB - pm.height()) / 2)
        font = QFont()
        font.setPointSizeF(8.5)
        text = QFontMetricsF(font).elidedText(
            info.asset_name, Qt.TextElideMode.ElideRight, NODE_W - 10
        )
        name = QGraphicsSimpleTextItem(text, self)
        name.setFont(font)
        name.setBrush(QColor("#d7dce5"))
        name.setPos((NODE_W - name.boundingRect().width()) / 2, THUMB + 8)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.setBrush(QBrush(QColor("#36405a")))

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.setBrush(QBrush(self._fill))

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        event.accept()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = self.scene()
        if event.button() != Qt.MouseButton.LeftButton or scene is None:
            return
        if self.contains(event.pos()):
            for view in scene.views():
                if isinstance(view, LineageView):
                    view.node_clicked.emit(self.info.asset_id, self.info.variant_id)
                    return


class LineageView(QGraphicsView):
    """Draws a :class:`LineageLayout`. ``node_clicked(asset_id, variant_id)``."""

    node_clicked = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(QColor("#1b1e24"))
        self.setMinimumHeight(140)
        self.nodes: dict[str, LineageNodeItem] = {}
        self.edges: dict[str, tuple[Edge, QGraphicsPathItem]] = {}
        self.layout_: LineageLayout | None = None
        self.auto_height = False
        self._auto_sized = False
        self.min_auto_height = 110
        self.max_auto_height = 340

    def clear_graph(self, message: str = "") -> None:
        self.scene().clear()
        self.nodes.clear()
        self.edges.clear()
        self.layout_ = None
        if message:
            text = self.scene().addSimpleText(message)
            text.setBrush(QColor("#7d8594"))

    def set_layout(
        self,
        layout: LineageLayout,
        infos: dict[str, NodeInfo],
        media_dir: Path | None = None,
    ) -> None:
        self.clear_graph()
        self.layout_ = layout
        scene = self.scene()
        for e in layout.edges:
            self.edges[e.id] = (e, self._draw_edge(scene, layout, e))
        for n in layout.nodes:
            info = infos.get(n.variant_id)
            if info is None:
                continue
            pm = load_thumb(media_dir, info.thumb_path, THUMB) if media_dir else None
            item = LineageNodeItem(info, pm, n.variant_id == layout.root)
            item.setPos(n.x, n.y)
            item.setZValue(1)
            scene.addItem(item)
            self.nodes[n.variant_id] = item
        if len(layout.nodes) == 1:
            note = scene.addSimpleText("No ancestors or descendants")
            note.setBrush(QColor("#7d8594"))
            note.setPos(NODE_W + 20, NODE_H / 2 - 8)
        if layout.truncated:
            note = scene.addSimpleText("(graph cut short: too deep or too large)")
            note.setBrush(QColor("#7d8594"))
            note.setPos(0, layout.height + NODE_H + 6)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-12, -12, 12, 12))
        self._auto_sized = False
        self.fit()

    def fit(self) -> None:
        """Shrink the graph to fit (down to half size; past that it scrolls), centred on
        the variant itself."""
        rect = self.scene().sceneRect()
        vp = self.viewport()
        if self.layout_ is None or rect.isEmpty() or vp.width() < 10:
            return
        if self.auto_height and not self._auto_sized:  # as tall as the graph needs
            self._auto_sized = True  # once per graph: no resize ping-pong
            by_width = max(MIN_SCALE, min(1.0, vp.width() / rect.width()))
            chrome = self.height() - vp.height()
            want = int(rect.height() * by_width) + chrome + 2
            want = max(self.min_auto_height, min(self.max_auto_height, want))
            if want != self.height():
                self.setFixedHeight(want)  # its resize event fits again
        s = min(1.0, vp.width() / rect.width(), vp.height() / rect.height())
        s = max(MIN_SCALE, s)
        self.setTransform(QTransform.fromScale(s, s))
        root = self.nodes.get(self.layout_.root)
        self.centerOn(root if root is not None else QPointF(0, 0))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def _draw_edge(
        self, scene: QGraphicsScene, layout: LineageLayout, e: Edge
    ) -> QGraphicsPathItem:
        a, b = layout.node(e.parent), layout.node(e.child)
        start = QPointF(a.x + NODE_W, a.y + NODE_H / 2)
        end = QPointF(b.x, b.y + NODE_H / 2)
        if b.x <= a.x:  # same column (should not happen): loop under
            start = QPointF(a.x + NODE_W / 2, a.y + NODE_H)
            end = QPointF(b.x + NODE_W / 2, b.y)
        path = QPainterPath(start)
        dx = max(30.0, (end.x() - start.x()) / 2)
        path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end)
        colour = QColor(RELATION_COLOURS.get(e.relation, "#8a93a3"))
        pen = QPen(colour, 1.6)
        if e.relation == "forked":
            pen.setStyle(Qt.PenStyle.DashLine)
        item = scene.addPath(path, pen)
        arrow = QPainterPath(end)
        arrow.lineTo(end + QPointF(-8, -4))
        arrow.lineTo(end + QPointF(-8, 4))
        arrow.closeSubpath()
        scene.addPath(arrow, QPen(colour), QBrush(colour))
        label = scene.addSimpleText(e.relation)
        font = QFont()
        font.setPointSizeF(7.5)
        label.setFont(font)
        label.setBrush(colour)
        mid = path.pointAtPercent(0.5)
        rect = label.boundingRect()
        label.setPos(mid.x() - rect.width() / 2, mid.y() - rect.height() - 1)
        label.setZValue(2)
        return item

    def node_center(self, variant_id: str) -> QPointF:
        """The view position of a node's centre (tests click there)."""
        item = self.nodes[variant_id]
        return self.mapFromScene(item.sceneBoundingRect().center()).toPointF()

    def load(self, space: Space | None, variant_id: str | None) -> None:
        if space is None or variant_id is None:
            self.clear_graph("No variant")
            return
        layout, infos = build_layout(space, variant_id)
        self.set_layout(layout, infos, space.media_dir)

    def visible_edges(self) -> set[tuple[str, str, str]]:
        return {(e.parent, e.child, e.relation) for e, _ in self.edges.values()}

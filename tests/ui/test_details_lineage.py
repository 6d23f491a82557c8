"""The lineage section: a real chain (generate → refine → derive with another reference
→ fork), severed edges hidden, clicking a node shows that node's asset."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.space import Space
from tests.conftest import OWNER
from tests.ui.test_details_kit import PLAIN, Details, generate, run_jobs


def test_lineage_graph_edges_sever_and_click(qtbot, space: Space) -> None:  # type: ignore[no-untyped-def]
    knight, a = generate(space, "a knight")
    run_jobs(space)
    a2 = space.apply(c.RequestRefine(knight, "in red armour", options=PLAIN), OWNER).created[
        "variant_id"
    ]
    horse, b = generate(space, "a horse")
    run_jobs(space)
    derived = space.apply(
        c.RequestGeneration(
            "a knight on a horse", c.MediaKindName.IMAGE, references=(a2, b), options=PLAIN
        ),
        OWNER,
    ).created
    rider, cv = derived["asset_id"], derived["variant_id"]
    run_jobs(space)
    fork = space.apply(c.ForkVariant(cv), OWNER).created
    fork_asset, fv = fork["asset_id"], fork["variant_id"]

    d = Details(qtbot, space)
    w = d.show(rider)
    view = w.lineage
    assert w.lineage_section.is_open()
    assert view.visible_edges() == {
        (a, a2, "refined"),
        (a2, cv, "derived"),
        (b, cv, "derived"),
        (cv, fv, "forked"),
    }
    xs = {vid: view.nodes[vid].pos().x() for vid in view.nodes}
    assert xs[a] < xs[a2] < xs[cv] < xs[fv] and xs[b] == xs[a2]  # ancestors left
    assert view.nodes[cv].is_root
    assert view.nodes[fv].info.asset_name == "a knight on a horse (fork)"

    # from the refined variant: its ancestor and descendants, not the horse
    w.show_asset(knight)
    w.core.grid.select_variant(a2)
    assert set(view.nodes) == {a, a2, cv, fv}

    # severing the fork hides that edge (and the node only reachable through it)
    w.show_asset(rider)
    d.host.run([c.SeverLineage(fork["lineage_id"])], "Sever lineage")
    d.pump()
    assert (cv, fv, "forked") not in view.visible_edges() and fv not in view.nodes
    d.host.stack.undo()
    d.pump()
    assert (cv, fv, "forked") in view.visible_edges()

    # clicking a node shows its asset
    view.resize(900, 400)
    view.show()
    QApplication.processEvents()
    view.centerOn(view.nodes[b])
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.node_center(b).toPoint())
    view.centerOn(view.nodes[fv])
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.node_center(fv).toPoint())
    assert d.host.shown == [horse, fork_asset]

    # folded away, the graph is not rebuilt until it is opened again
    w.lineage_section.set_open(False)
    w.show_asset(knight)
    assert b in view.nodes  # still the rider's graph
    w.lineage_section.set_open(True)
    assert set(view.nodes) == {a, a2, cv, fv}
    d.close()

"""All menu and keyboard actions of the main window, created in one place, and the wiring that only joins the
canvas, the panels and the actions (no project logic); the window connects the rest.

Every action is a window-wide shortcut (Qt.WindowShortcut on the window), so 1–9, PgDn/PgUp, B/E/… work whichever
widget has the focus (a spin box being typed in keeps its digits). Plain Tab is left to focus navigation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QMainWindow, QMenu, QWidget

from medseg_gui.core.demo import DEMOS
from medseg_gui.paths import log_dir
from medseg_gui.qt import dialogs, keymap
from medseg_gui.qt.about import SystemInfo, show_about
from medseg_gui.qt.canvas.input import brush_step
from medseg_gui.qt.canvas.view import stepped_zoom
from medseg_gui.qt.restore_flow import RestoreFlow, has_removed

if TYPE_CHECKING:
    from medseg_gui.qt.canvas import Canvas
    from medseg_gui.qt.legend import CanvasLegend
    from medseg_gui.qt.panels.image_list import ImageListPanel
    from medseg_gui.qt.panels.layers_panel import LayersPanel
    from medseg_gui.qt.panels.tools_panel import ToolsPanel

K = {name: shortcut.keys for name, shortcut in keymap.ACTIONS.items()}  # the keys of each action (qt.keymap)


def _action(parent: QWidget, text: str, *shortcuts: QKeySequence | str, tip: str = "") -> QAction:
    action = QAction(text, parent)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    parent.addAction(action)  # active even when the menu bar is hidden
    return action


@dataclass
class WindowActions:
    open_folder: QAction
    add_images: QAction
    open_demo: QAction
    open_lesion_demo: QAction
    import_masks: QAction
    export_masks: QAction
    export_labels: QAction
    export_other: QAction
    export_outlines: QAction
    quit: QAction
    undo: QAction
    redo: QAction
    fit: QAction
    actual_size: QAction
    zoom_in: QAction
    zoom_out: QAction
    reviewed: QAction
    no_object: QAction
    label_sparse: QAction
    label_complete: QAction
    accept_prediction: QAction
    edit_classes: QAction
    remove_image: QAction
    restore_image: QAction
    retrain: QAction
    predict_all: QAction
    cancel: QAction
    continuous: QAction
    from_scratch: QAction
    result_in_full: QAction
    restrict_class: QAction
    models: QAction
    next_image: QAction
    prev_image: QAction
    next_to_label: QAction
    bigger_brush: QAction
    smaller_brush: QAction
    shortcuts: QAction
    about: QAction
    open_log_folder: QAction
    legend: QAction
    classes: list[QAction] = field(default_factory=list)
    tools: dict[str, QAction] = field(default_factory=dict)
    layers: dict[str, QAction] = field(default_factory=dict)


def create_actions(parent: QWidget) -> WindowActions:
    actions = WindowActions(
        open_folder=_action(parent, "&Open folder of images…", *K["open_folder"],
                            tip="Open a project or any folder of images"),
        add_images=_action(parent, "&Add images…", tip="Copy image files into the open project's images/ folder (or "
                           "drop them on the window)"),
        open_demo=_action(parent, "&Vessel demo", tip=DEMOS["vessel"].title),
        open_lesion_demo=_action(parent, "&Lesion demo", tip=DEMOS["lesion"].title),
        import_masks=_action(parent, "&Import masks…",
                             tip="Bring a folder of masks in as a class's labels or as regions of interest (matched "
                             "to the images by name; nothing is overwritten)"),
        export_masks=_action(parent, "&Export masks as PNG…", *K["export_masks"],
                             tip="Write one 0/255 PNG per image and class, at the original size"),
        export_labels=_action(parent, "Export &labels only as PNG…",
                              tip="Your labels alone, no predictions: a sparse label's unpainted pixels are "
                              "background"),
        export_other=_action(parent, "Export for &other tools…",
                             tip="An nnU-Net dataset, COCO JSON or HDF5, with a manifest of labels and predictions"),
        export_outlines=_action(parent, "Export &photos with outlines…",
                                tip="Each photo with every class's outline drawn in its colour, for reports: your "
                                "label solid, the model's prediction dashed"),
        quit=_action(parent, "&Quit", *K["quit"]),
        undo=_action(parent, "&Undo", *K["undo"], tip=keymap.ACTIONS["undo"].text),
        redo=_action(parent, "&Redo", *K["redo"], tip=keymap.ACTIONS["redo"].text),
        fit=_action(parent, "&Fit image", *K["fit"]),
        actual_size=_action(parent, "&Actual size (100 %)", *K["actual_size"], tip=keymap.ACTIONS["actual_size"].text),
        zoom_in=_action(parent, "Zoom &in", *K["zoom_in"], tip=keymap.ACTIONS["zoom_in"].text),
        zoom_out=_action(parent, "Zoom o&ut", *K["zoom_out"], tip=keymap.ACTIONS["zoom_out"].text),
        reviewed=_action(parent, "Mark image &reviewed", *K["reviewed"],
                         tip="Toggle the reviewed mark of the current image"),
        no_object=_action(parent, "&No object of this class here", *K["no_object"],
                          tip=keymap.ACTIONS["no_object"].text),
        label_sparse=_action(parent, "Label &complete ↔ sparse", *K["label_sparse"],
                             tip=keymap.ACTIONS["label_sparse"].text),
        label_complete=_action(parent, "&Keep label complete", *K["label_complete"],
                               tip=keymap.ACTIONS["label_complete"].text),
        accept_prediction=_action(parent, "&Accept prediction", *K["accept_prediction"],
                                  tip=keymap.ACTIONS["accept_prediction"].text),
        edit_classes=_action(parent, "&Classes…", tip="Add, rename, recolour or delete a class (labels are kept)"),
        remove_image=_action(parent, "Re&move image from project…",
                             tip="Take the image shown out of the project (a wrong or duplicate photo): its labels and "
                             "other files are moved to the project's .removed/ folder, nothing is deleted"),
        restore_image=_action(parent, "&Bring back a removed image…",
                              tip="List the images removed from the project and bring one back, with its labels, "
                              "marks and scores"),
        retrain=_action(parent, "&Retrain current class", *K["retrain"]),
        predict_all=_action(parent, "&Predict all images", *K["predict_all"],
                            tip=keymap.ACTIONS["predict_all"].text),
        cancel=_action(parent, "&Cancel training or prediction", *K["cancel"]),
        continuous=_action(parent, "C&ontinuous training", tip="The Train panel's Continuous: keep training in "
                           "rounds in the background (again: stop)"),
        from_scratch=_action(parent, "Start from &scratch", tip="The Train panel's Start from scratch: the next "
                             "Retrain starts from random weights (once: it unticks itself when that run ends)"),
        result_in_full=_action(parent, "Last result in &full…", tip="The Train panel's last result line in full, "
                               "with its reasons (its tooltip)"),
        models=_action(parent, "&Models of current class…",
                       tip="Every trained model with its scores: use an earlier one again, or compare two"),
        restrict_class=_action(parent, "Restrict current class to a &region…",
                               tip="Two-stage: train, predict and score this class only inside another class "
                               "(e.g. the lesion inside the cervix)"),
        next_image=_action(parent, "&Next image", *K["next_image"]),
        prev_image=_action(parent, "&Previous image", *K["prev_image"]),
        next_to_label=_action(parent, "Next image to &label", *K["next_to_label"],
                              tip=keymap.ACTIONS["next_to_label"].text),
        bigger_brush=_action(parent, "&Larger brush", *K["bigger_brush"]),
        smaller_brush=_action(parent, "&Smaller brush", *K["smaller_brush"]),
        shortcuts=_action(parent, "&Keyboard shortcuts", *K["shortcuts"]),
        about=_action(parent, "&About medseg_gui", tip="Versions, the compute device, precision and folders"),
        open_log_folder=_action(parent, "Open &log folder",
                                tip="Show the folder of medseg_gui's log files (attach them to a problem report)"),
        legend=_action(parent, "Show le&gend", tip="The colour legend in the image's bottom-left corner (untick it "
                       "to see more of a small image)"),
    )
    actions.cancel.setEnabled(False)
    actions.continuous.setCheckable(True)  # they mirror the Train panel's controls (_mirror)
    actions.from_scratch.setCheckable(True)
    actions.legend.setCheckable(True)
    actions.legend.setChecked(True)
    actions.classes = [_action(parent, f"Class {key}", key) for key in keymap.CLASS_KEYS]
    for i, action in enumerate(actions.classes):
        action.setData(i)
    for tool, (key, text, _) in keymap.TOOLS.items():  # Pan too: no key (Space is held), 'P&an' (P: Polygon)
        actions.tools[tool] = _action(parent, _mnemonic(text, key or text[1]), *filter(None, [key]))
        actions.tools[tool].setData(tool)
    for layer, (key, what) in keymap.LAYERS.items():
        actions.layers[layer] = _action(parent, f"Toggle {_mnemonic(what, key)}", key)
        actions.layers[layer].setData(layer)
    return actions


def _mnemonic(text: str, key: str) -> str:
    """`text` with its first letter that is the one-letter `key` underlined, so in a menu the key chooses it too."""
    at = text.lower().find(key.lower()) if len(key) == 1 else -1
    return text if at < 0 else f"{text[:at]}&{text[at:]}"


def install_menus(window: QMainWindow, a: WindowActions, *, recent: QMenu | None = None,
                  theme: QMenu | None = None) -> None:
    """The menu bar; `recent` (File → Open recent) follows Open folder, `theme` ends the View menu."""
    menu = window.menuBar()
    file_menu = menu.addMenu("&File")
    file_menu.addAction(a.open_folder)
    if recent is not None:
        file_menu.addMenu(recent)
    file_menu.addAction(a.add_images)
    demo_menu = file_menu.addMenu("Open &demo")
    demo_menu.addAction(a.open_demo)
    demo_menu.addAction(a.open_lesion_demo)
    for item in (None, a.import_masks, None, a.export_masks, a.export_labels, a.export_outlines, a.export_other, None,
                 a.quit):
        file_menu.addSeparator() if item is None else file_menu.addAction(item)
    edit_menu = menu.addMenu("&Edit")
    edit_menu.setObjectName("editMenu")
    for item in (a.undo, a.redo, None, a.accept_prediction, a.no_object, a.label_sparse, a.label_complete, None,
                 a.smaller_brush, a.bigger_brush, None, a.edit_classes, a.remove_image, a.restore_image):
        edit_menu.addSeparator() if item is None else edit_menu.addAction(item)
    edit_menu.addMenu("&Tools").addActions(list(a.tools.values()))  # their keys beside them, as in F1
    view_menu = menu.addMenu("&View")
    for item in (a.fit, a.actual_size, a.zoom_in, a.zoom_out, a.next_image, a.prev_image, a.next_to_label, a.reviewed):
        view_menu.addAction(item)
    layers_menu = view_menu.addMenu("La&yers")
    layers_menu.addActions(list(a.layers.values()))
    layers_menu.addSeparator()
    layers_menu.addAction(a.legend)
    if theme is not None:
        view_menu.addSeparator()
        view_menu.addMenu(theme)
    train_menu = menu.addMenu("&Train")
    train_menu.setObjectName("trainMenu")
    for item in (a.retrain, a.continuous, a.from_scratch, a.predict_all, a.cancel, a.models, a.result_in_full, None,
                 a.restrict_class):
        train_menu.addSeparator() if item is None else train_menu.addAction(item)
    help_menu = menu.addMenu("&Help")
    help_menu.addAction(a.shortcuts)
    help_menu.addAction(a.open_log_folder)
    help_menu.addAction(a.about)


def connect_view_actions(a: WindowActions, canvas: Canvas, tools: ToolsPanel, layers: LayersPanel,
                         images: ImageListPanel, legend: CanvasLegend) -> None:
    """Wire the actions that only drive panels and the canvas (navigation, zoom, class keys, tools, layers, the
    legend, undo), and the panels to the canvas in both directions (tool, brush size, wand tolerance, layer
    visibility/opacity)."""
    for layer, (visible, opacity) in layers.states().items():
        canvas.set_layer_visible(layer, visible)
        canvas.set_layer_opacity(layer, opacity)
    canvas.set_brush_size(tools.brush_slider.value())
    canvas.tool_changed.connect(tools.set_tool)
    canvas.brush_size_changed.connect(tools.set_brush_size)
    tools.tool_changed.connect(canvas.set_tool)
    canvas.set_label_mode(tools.label_mode())
    tools.label_mode_changed.connect(canvas.set_label_mode)
    tools.brush_size_changed.connect(canvas.set_brush_size)
    tools.wand_tolerance_changed.connect(canvas.set_wand_tolerance)
    layers.visibility_changed.connect(canvas.set_layer_visible)
    layers.opacity_changed.connect(canvas.set_layer_opacity)
    a.undo.triggered.connect(canvas.undo)
    a.redo.triggered.connect(canvas.redo)

    def undo_state() -> None:  # enabled only when this image has a step to undo / redo and can be edited
        a.undo.setEnabled(canvas.editable and canvas.can_undo())
        a.redo.setEnabled(canvas.editable and canvas.can_redo())

    canvas.history_changed.connect(undo_state)
    undo_state()
    a.fit.triggered.connect(canvas.fit)
    a.actual_size.triggered.connect(canvas.actual_size)
    a.zoom_in.triggered.connect(lambda: _zoom_step(canvas, 1))
    a.zoom_out.triggered.connect(lambda: _zoom_step(canvas, -1))
    images.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)  # right-click on an image
    images.table.addAction(a.remove_image)
    a.next_image.triggered.connect(lambda: images.step(1))
    a.prev_image.triggered.connect(lambda: images.step(-1))
    a.accept_prediction.triggered.connect(tools.accept_prediction_requested)  # on and off with its button
    a.bigger_brush.triggered.connect(lambda: canvas.set_brush_size(brush_step(canvas.brush_size(), 1)))
    a.smaller_brush.triggered.connect(lambda: canvas.set_brush_size(brush_step(canvas.brush_size(), -1)))
    for i, action in enumerate(a.classes):
        action.triggered.connect(lambda _=False, i=i: _choose_class(tools, canvas, i))
    for tool, action in a.tools.items():
        action.triggered.connect(lambda _=False, t=tool: canvas.set_tool(t))
    for layer, action in a.layers.items():
        action.triggered.connect(lambda _=False, name=layer: layers.toggle(name))
    a.legend.toggled.connect(legend.set_wanted)


def _zoom_step(canvas: Canvas, notches: int) -> None:
    """Zoom in (1) or out (-1) as a wheel notch does, centred on the view; nothing while no image is shown."""
    if canvas.doc.image is not None:
        canvas.set_zoom(stepped_zoom(canvas.zoom(), notches))


def _choose_class(tools, canvas, index: int) -> None:
    """A class key: choose its class, or say on the status bar that it has none (and clear that once one is)."""
    missing = tools.select_class_index(index)
    if missing is not None:
        canvas.notify(missing)


def connect_window_actions(a: WindowActions, w: Any) -> None:
    """The File, Edit and Train menu items of the main window `w` (qt.main_window.MainWindow) to its parts."""
    a.open_folder.triggered.connect(w.files.ask_open)
    a.add_images.triggered.connect(w.files.ask_add)
    a.open_demo.triggered.connect(lambda: w.open_demo("vessel"))
    a.open_lesion_demo.triggered.connect(lambda: w.open_demo("lesion"))
    a.export_masks.triggered.connect(lambda: w.export_masks())
    a.export_labels.triggered.connect(lambda: w.export_masks("labels"))
    a.import_masks.triggered.connect(w.import_masks)
    a.export_other.triggered.connect(lambda: w.export_other())
    a.export_outlines.triggered.connect(lambda: w.export_other("outlines"))
    a.quit.triggered.connect(w.close)
    a.retrain.triggered.connect(w.training.retrain)
    a.reviewed.triggered.connect(w.toggle_reviewed)
    a.edit_classes.triggered.connect(lambda: w.classes.edit(w.classes_locked))
    a.remove_image.triggered.connect(lambda: w.remover.start(w.classes_locked))  # refused like a class change
    for action, what in ((a.edit_classes, "Classes…"), (a.remove_image, "Remove image")):
        _off_while_running(action, what, w)
    _connect_restore(a.restore_image, w)
    a.cancel.triggered.connect(w.train_panel.cancel)
    train_menu = w.menuBar().findChild(QMenu, "trainMenu")
    _mirror(train_menu, a.continuous, w.train_panel.continuous_button)
    _mirror(train_menu, a.from_scratch, w.train_panel.scratch_check)
    a.result_in_full.triggered.connect(lambda: dialogs.show_message(w, "Last training result",
                                                                    w.train_panel.result_in_full()))
    train_menu.aboutToShow.connect(lambda: a.result_in_full.setEnabled(bool(w.train_panel.result_in_full())))
    a.no_object.triggered.connect(lambda: w.statusBar().showMessage(w.negatives.toggle(w.current_class()), 10000))
    a.label_sparse.triggered.connect(lambda: w.statusBar().showMessage(
        w.label_status.toggle(w.current_class()), 10000))
    a.label_complete.triggered.connect(lambda: w.statusBar().showMessage(
        w.label_status.confirm(w.current_class()), 10000))
    a.restrict_class.triggered.connect(lambda: w.regions.ask(w.project, w.current_class()))
    a.models.triggered.connect(w.training.show_models)


def _off_while_running(action: QAction, what: str, w: Any,
                       allowed: Callable[[], bool] = lambda: True) -> Callable[..., None]:
    """`action` (Remove image, Classes…, Bring back: refused by `classes_locked` while a run goes on) off while a
    training or a prediction with a model runs, its entry and tips saying why (a trial's click only met a refusal), on
    again when that ends if `allowed()` too (else off, plainly). Returns the update, for other moments to call."""
    text, tip = action.text(), action.statusTip()

    def update(*_: object) -> None:
        busy = "training" if w.train_worker is not None else "predicting" if w.models.busy() else ""
        action.setEnabled(not busy and allowed())
        action.setText(f"{text} ({busy})" if busy else text)
        off = f"{what} is off while {'a training' if busy == 'training' else 'every image is predicted'} runs: "
        action.setStatusTip(f"{off}try again when it has finished." if busy else tip)
        action.setToolTip(action.statusTip())

    for changed in (w.train_panel.running_changed, w.training.ended, w.models.busy_changed):  # ended: the worker is
        changed.connect(update)  # let go by then
    update()
    return update


def _connect_restore(action: QAction, w: Any) -> RestoreFlow:
    """Edit → Bring back a removed image… (qt.restore_flow): on while the project shown has one and no run goes on
    (refused like Remove image, off like it), checked again when a project is shown and when the Edit menu opens."""
    flow = RestoreFlow(w.workers, w, lambda: w.project, w.image_list, w._reshow, w.metrics_refresher)
    action.triggered.connect(lambda: flow.start(w.classes_locked))
    update = _off_while_running(action, "Bring back a removed image", w, lambda: has_removed(w.project))
    for shown in (w.project_loaded, w.menuBar().findChild(QMenu, "editMenu").aboutToShow):
        shown.connect(update)
    flow.status.connect(lambda text: w.statusBar().showMessage(text, 15000))
    flow.said.connect(lambda text: w.next_line.beside_image(text, w.image_list.current_stem()))
    flow.errored.connect(w.show_error)
    flow.editing_paused.connect(lambda why: w.read_only_view.pause(why, "bring back"))
    return flow


def _mirror(menu: QMenu, action: QAction, button: QAbstractButton) -> None:
    """A checkable menu entry that clicks `button` (nothing while it is off) and shows its state when `menu` opens."""
    action.triggered.connect(lambda _=False: button.click())

    def show() -> None:
        action.setEnabled(button.isEnabled())
        action.setChecked(button.isChecked())

    menu.aboutToShow.connect(show)
    show()


def connect_help_actions(a: WindowActions, parent: QWidget, system: SystemInfo) -> None:
    """F1 and About open non-blocking windows over `parent` (About reads `system`); the log folder opens in
    the file manager (or its path is shown when none starts)."""
    a.shortcuts.triggered.connect(lambda: dialogs.show_shortcuts(parent))
    a.about.triggered.connect(lambda: show_about(parent, system))
    a.open_log_folder.triggered.connect(lambda: _open_log_folder(parent))


def _open_log_folder(parent: QWidget) -> None:
    folder = log_dir()
    try:
        opened = dialogs.open_in_file_manager(folder)
    except OSError as err:
        dialogs.show_message(parent, "Log folder", f"The log folder {folder} cannot be created: {err.strerror or err}",
                             error=True)
        return
    if not opened:
        dialogs.show_message(parent, "Log folder", f"The log files are in {folder}")

"""``compile``: what a model is trained with (optimizer, loss, metrics), recorded on the model
as a :class:`CompileState` (``model._zd_compile``); the optimizer itself is made at the first
``fit`` (see the "Optimizer" entry of ``zerodl.train.api``'s docstring).
"""
from .. import optim
from .losses_and_metrics import resolve_loss, resolve_metric

__all__ = ["compile", "CompileState", "OPTIMIZERS", "compiled_state", "make_optimizer", "check_optimizer"]

OPTIMIZERS = optim.names.OPTIMIZERS  # name -> zerodl.optim class (kept here for old imports)


class CompileState:
    """What ``compile`` recorded on a model (``model._zd_compile``)."""

    def __init__(self, optimizer_spec, loss, metrics, param_ids):
        self.optimizer_spec = optimizer_spec  # name / factory / recipe; None for a ready optimizer
        self.loss = loss  # losses_and_metrics.Loss or None
        self.metrics = metrics  # [losses_and_metrics.Metric]
        self.param_ids = param_ids  # ids of the parameters that existed at compile time
        self.built = False  # the dry forward has run
        self.warned = False


# ----------------------------------------------------------------------------- compile
def compile(model, optimizer="adam", loss="cross_entropy", metrics=None):  # noqa: A001 - Keras's name
    """Configure ``model`` for ``fit``/``evaluate`` (see the module docstring)."""
    loss_obj = resolve_loss(loss)
    if metrics is None:
        metrics = []
    elif isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    elif isinstance(metrics, dict):
        raise TypeError("compile: metrics must be a list of names or callables (one output, no dict)")
    mets = [resolve_metric(m, loss_obj) for m in metrics]
    names = [m.name for m in mets]
    for n in names:
        if n == "loss" or names.count(n) > 1:
            raise ValueError(f"compile: metric name {n!r} is used twice (or clashes with 'loss')")
    spec, instance = _optimizer_spec(optimizer)
    state = CompileState(spec, loss_obj, mets, {id(p) for p in model.parameters()})
    model._zd_compile = state
    # Plain names are recorded for nn.save_model, so load_model can compile again.
    config = {}
    if isinstance(optimizer, str):
        config["optimizer"] = optimizer
    if isinstance(loss, str):
        config["loss"] = loss
        if all(isinstance(m, str) for m in metrics):
            config["metrics"] = list(metrics)
    model._compile_config = config or None
    model.optimizer = instance
    model.stop_training = False
    return None


def _optimizer_spec(optimizer):
    """(spec, instance): a name/factory/recipe to build later, or a ready optimizer."""
    if optimizer is None:
        return None, None
    if isinstance(optimizer, str):
        optim.names.resolve(optimizer, "compile")  # a clear error now rather than at fit
        return optimizer.lower(), None
    if isinstance(optimizer, type):
        return optimizer, None
    if hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad"):
        return None, optimizer
    if hasattr(optimizer, "build") or callable(optimizer):
        return optimizer, None
    raise TypeError(f"compile: optimizer must be a name, a zerodl.optim optimizer or a factory, "
                    f"got {type(optimizer).__name__}")


def make_optimizer(spec, params):
    params = list(params)
    if not params:
        raise ValueError("fit: the model has no parameters to train")
    if isinstance(spec, str):
        return optim.names.create(spec, params, where="compile")
    if not isinstance(spec, type) and hasattr(spec, "build"):
        return spec.build(params)
    return spec(params)


def compiled_state(model, where):
    state = getattr(model, "_zd_compile", None)
    if state is None:
        raise RuntimeError(
            f"{where}: the model is not compiled; call model.compile(optimizer='adam', "
            f"loss='cross_entropy', metrics=['accuracy']) first"
        )
    return state


def _optimizer_param_ids(opt):
    groups = getattr(opt, "param_groups", None)
    if groups is not None:
        try:
            return {id(p) for g in groups for p in (g["params"] if isinstance(g, dict) else g)}
        except (TypeError, KeyError):
            pass
    params = getattr(opt, "params", None)
    if params is not None:
        try:
            return {id(p) for p in params}
        except TypeError:
            pass
    return None


def check_optimizer(model, state, opt):
    """A ready optimizer must know the parameters created after compile (lazy layers)."""
    known = _optimizer_param_ids(opt)
    new = [p for p in model.parameters() if id(p) not in state.param_ids and (known is None or id(p) not in known)]
    if not new:
        return
    if hasattr(opt, "add_param_group"):
        opt.add_param_group({"params": new})
        state.param_ids.update(id(p) for p in new)
        return
    raise RuntimeError(
        f"fit: the model created {len(new)} parameter(s) at its first call (layers whose input size is "
        "inferred), which the optimizer given to compile cannot know. Either pass the optimizer by name "
        "(compile(optimizer='adam')), or call the model once before building the optimizer: "
        "model(x[:1]); opt = optim.Adam(model.parameters()); model.compile(optimizer=opt, ...)"
    )

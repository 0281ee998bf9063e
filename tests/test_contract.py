"""The layer contract (every name a model or trainer asks of a layer is declared by `Layer`) and the
defects of issue 26: each test here failed before its fix."""
import inspect

import numpy as np
import pytest

from scratchnn import activations, callbacks, layers, regularizers
from scratchnn.gradient_check import check_gradients
from scratchnn.models import Sequential


def small_model(last):
    model = Sequential([layers.Dense(3, activation="relu"), last])
    model.build((None, 4), dtype="float64")
    return model


# --- item 1: the layer contract ------------------------------------------------------------------

@pytest.mark.parametrize("last", [lambda: layers.Dropout(0.5), lambda: layers.BatchNormalization()],
                         ids=["Dropout", "BatchNormalization"])
def test_backward_from_the_pre_activation_of_a_layer_without_one_says_so(last):
    model = small_model(last())
    name = type(model.layers[-1]).__name__
    y = model.forward(np.ones((2, 4)), training=True)
    with pytest.raises(ValueError, match=f"{name} '[a-z_]+' has no activation to skip"):
        model.backward(np.ones_like(y), skip_last_activation=True)
    with pytest.raises(ValueError, match=f"{name} '[a-z_]+' has no activation, so no pre-activation"):
        _ = model.layers[-1].pre_activation
    assert model.layers[-1].activation is None
    assert model.backward(np.ones_like(y)).shape == (2, 4)           # the plain backward pass works


def test_the_base_layer_declares_everything_a_model_or_trainer_asks_of_a_layer():
    for name in ["activation", "pre_activation", "backward_pre_activation", "weight_names", "losses",
                 "shared_grads", "borrowed_from", "grads", "trainable_weights", "non_trainable_weights",
                 "set_weight_arrays", "compute_output_shape", "count_params", "get_weights", "set_weights"]:
        assert name in vars(layers.Layer) or name in vars(layers.Layer()), name
        assert name in layers.__doc__, f"the module docstring does not list {name}"


def test_backward_names_its_option_by_what_it_means():
    parameters = inspect.signature(Sequential.backward).parameters
    assert "skip_last_activation" in parameters and "from_logits" not in parameters


def test_the_trainer_asks_the_last_layer_not_getattr():
    from scratchnn import trainer
    assert "getattr" not in inspect.getsource(trainer.Trainer._logits_twin)


def test_a_classifier_ending_in_dropout_trains_without_the_logits_shortcut():
    model = Sequential([layers.Dense(3, activation="softmax"), layers.Dropout(0.2)])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model.logits_loss is None
    model.fit(np.ones((4, 2)), np.eye(3)[[0, 1, 2, 0]], verbose=0)


# --- item 2: forward is the plain loop --------------------------------------------------------------

def test_forward_is_the_loop_and_nothing_else():
    source = inspect.getsource(Sequential.forward)
    assert "for layer in self.layers" in source and "buffer" not in source and "pack" not in source


# --- item 3: defects --------------------------------------------------------------------------------

def test_summary_has_keras_signature_without_input_shape(capsys):
    model = small_model(layers.Dense(2))
    with pytest.raises(TypeError):
        model.summary(input_shape=(None, 7))     # it printed shapes for an input the model was not built for
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[0] == 'Model: "sequential"' and any("(None, 2)" in line for line in lines)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("where", ["fit", "evaluate", "predict"])
def test_an_explicit_progbar_logger_is_silent_at_verbose_0(where, capsys):
    model = Sequential([layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = np.ones((5, 3)), np.array([0, 1, 0, 1, 1])
    call = {"fit": lambda cb: model.fit(x, y, epochs=2, verbose=0, callbacks=cb),
            "evaluate": lambda cb: model.evaluate(x, y, verbose=0, callbacks=cb),
            "predict": lambda cb: model.predict(x, verbose=0, callbacks=cb)}[where]
    call([callbacks.ProgbarLogger()])
    assert capsys.readouterr().out == ""


def test_an_explicit_progbar_logger_prints_at_verbose_2(capsys):
    model = Sequential([layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(np.ones((5, 3)), np.array([0, 1, 0, 1, 1]), epochs=2, verbose=2, callbacks=[callbacks.ProgbarLogger()])
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "1/1 - " in out


@pytest.mark.parametrize("units", [True, False, 2.0, "3", 0, -1, None])
def test_dense_units_must_be_a_positive_integer(units):
    with pytest.raises(ValueError, match=f"units must be a positive integer; got {units!r}"):
        layers.Dense(units)


@pytest.mark.parametrize("slope", [None, "0.1", -0.1, float("nan"), True])
def test_leaky_relu_slope_is_checked_with_a_clear_error(slope):
    with pytest.raises(ValueError, match=r"negative_slope must be a number >= 0; got negative_slope="):
        layers.LeakyReLU(slope)


@pytest.mark.parametrize("l2", ["0.1", None, -1, float("nan"), float("inf"), True])
def test_l2_factor_is_checked_with_a_clear_error(l2):
    with pytest.raises(ValueError, match=r"l2 must be a number >= 0; got l2="):
        regularizers.L2(l2)


def test_l2_accepts_numbers():
    assert regularizers.L2(0).l2 == 0 and regularizers.L2(np.float32(0.5)).l2 == 0.5


def test_activation_layer_checks_its_keyword_arguments_at_construction():
    with pytest.raises(ValueError, match=r"The activation 'relu' takes no argument 'negative_slope'"):
        layers.Activation("relu", negative_slope=0.1)
    layer = layers.Activation("leaky_relu", negative_slope=0.1)
    np.testing.assert_allclose(layer(np.array([[-1.0, 2.0]])), [[-0.1, 2.0]])
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.check_arguments("relux", {})


def test_check_gradients_says_why_it_cannot_check_dropout():
    model = Sequential([layers.Dense(3, activation="tanh"), layers.Dropout(0.5), layers.Dense(2)])
    model.build((None, 4), dtype="float64")
    with pytest.raises(ValueError, match="Dropout"):
        check_gradients(model, np.random.default_rng(0).normal(size=(5, 4)))
    no_dropout = Sequential([layers.Dense(3, activation="tanh"), layers.Dropout(0.0), layers.Dense(2)])
    no_dropout.build((None, 4), dtype="float64")
    assert max(check_gradients(no_dropout, np.random.default_rng(0).normal(size=(5, 4))).values()) < 1e-6


def test_compile_creates_no_attribute_and_compiled_is_a_flag():
    model = Sequential([layers.Dense(2, activation="softmax")])
    assert model.compiled is False and model.optimizer is None and model.loss is None
    before = set(vars(model))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.compiled is True and set(vars(model)) == before
    with pytest.raises(RuntimeError, match="compile"):
        Sequential([layers.Dense(1)]).fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0)


def test_model_diagram_counts_batch_norm_statistics_as_non_trainable():
    from course_tools import model_diagram
    model = Sequential([layers.Dense(4), layers.BatchNormalization(), layers.Activation("relu"), layers.Dense(2)])
    model.build((None, 3))
    rows = model_diagram.layer_rows(model)
    assert sum(row["params"] for row in rows) == 42 and sum(row["trainable"] for row in rows) == 34
    assert model_diagram._total_line(42, 34) == "total: 42 parameters, 34 trainable"
    assert model_diagram._total_line(34, 34) == "total: 34 trainable parameters"


def test_course_tools_import_no_private_names_of_each_other():
    import ast
    import pathlib

    import course_tools
    folder = pathlib.Path(course_tools.__file__).parent
    modules = {p.stem for p in folder.glob("*.py")}
    private = []
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules and node.attr.startswith("_")):
                private.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert not private, private


def test_gradients_docstring_names_what_the_functions_read():
    from course_tools import gradients
    assert "pre_activation" in gradients.__doc__ and "Both read" not in gradients.__doc__
    assert all(name in gradients.__doc__ for name in ["kernel_gradient_norms", "pre_activations", "dead_fraction"])

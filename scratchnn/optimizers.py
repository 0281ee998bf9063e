"""Optimizers with Keras 3's update rules and defaults: `optimizer.apply(grads, variables)` updates
the NumPy arrays in `variables` in place, so N steps from the same start give Keras's numbers."""
import math

import numpy as np

from ._checks import from_identifier
from .weight_buffer import WeightBuffer


def check_hyperparameter(value, name, low, high, high_included=False):
    """`value` as a float if it is a number in [low, high) (or [low, high]); a ValueError naming it otherwise."""
    inside = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) \
        and math.isfinite(value) and low <= value and (value <= high if high_included else value < high)
    if not inside:
        interval = f"[{low}, {high}]" if high_included else f"[{low}, {high})"
        raise ValueError(f"{name} must be a number in {interval}; got {value!r}.")
    return float(value)


class Optimizer:
    """Base class. `iterations` counts the calls to `apply`; slots (e.g. momentum) are made at the first."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self.iterations = 0
        self._shapes = None       # the shapes of the variables of the first call

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = check_hyperparameter(value, "learning_rate", 0, math.inf)

    def apply(self, grads, variables):
        """One update of every array in `variables` (in place) from its gradient in `grads`.

        `variables` is either a list of float arrays, each updated with its gradient (Keras's form),
        or a model's WeightBuffer (what `fit` hands over: see weight_buffer.py), whose one flat array
        is updated in one go with the model's gradients laid end to end: the same arithmetic on
        the same numbers, in a few large NumPy calls instead of many small ones.
        """
        if isinstance(variables, WeightBuffer):
            grads, variables = [variables.gradient(grads)], [variables.flat]
        else:
            grads, variables = [np.asarray(g) for g in grads], list(variables)
            self._check(grads, variables)
        if self._shapes is None:
            self._shapes = [v.shape for v in variables]
            self.build(variables)
        elif [v.shape for v in variables] != self._shapes:
            raise ValueError(f"apply: this optimizer was built for variables of shapes {self._shapes}; got "
                             f"{[v.shape for v in variables]}. Use one optimizer per model (and per way of "
                             "calling it: a model's WeightBuffer, as fit uses, or its list of weights).")
        self.iterations += 1
        for index, (grad, variable) in enumerate(zip(grads, variables)):
            if grad.dtype != variable.dtype:
                grad = grad.astype(variable.dtype)
            self.update_step(index, grad, variable, variable.dtype.type(self.learning_rate))

    def build(self, variables):
        """Create the per-variable state (slots)."""

    def update_step(self, index, grad, variable, learning_rate):
        raise NotImplementedError

    def _check(self, grads, variables):
        """Clear errors for wrong arguments: as many gradients as variables, float arrays, matching
        shapes, finite gradients. The sum of every gradient is finite if and only if none holds NaN
        or infinity (barring overflow), so that is tested first: it is cheap."""
        if len(grads) != len(variables):
            raise ValueError(f"apply: got {len(grads)} gradients for {len(variables)} variables.")
        for index, (grad, variable) in enumerate(zip(grads, variables)):
            if not (isinstance(variable, np.ndarray) and variable.dtype.kind == "f"):
                raise ValueError(f"apply: variable {index} must be a float NumPy array (updated in place); "
                                 f"got {type(variable).__name__}.")
            if grad.shape != variable.shape:
                raise ValueError(f"apply: gradient {index} has shape {grad.shape} but its variable has "
                                 f"shape {variable.shape}.")
            if not math.isfinite(np.sum(grad)) and not np.isfinite(grad).all():
                raise ValueError(f"apply: gradient {index} contains NaN or infinity; the model has diverged "
                                 "(try a smaller learning rate).")


class SGD(Optimizer):
    """Gradient descent, with optional momentum, in Keras's form:

        velocity = momentum * velocity - learning_rate * grad
        w += velocity                                   (nesterov=False)
        w += momentum * velocity - learning_rate * grad (nesterov=True)

    With momentum=0 this is plain w -= learning_rate * grad. Taught in chapter 6
    (momentum_rmsprop_adam.ipynb), where Keras's form is related to the EMA form of the lecture notes.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = check_hyperparameter(momentum, "momentum", 0, 1, high_included=True)
        self.nesterov = bool(nesterov)

    def build(self, variables):
        self.velocities = [np.zeros_like(v) for v in variables] if self.momentum else None

    def update_step(self, index, grad, variable, learning_rate):
        """One step for one variable, in place. Taught in chapter 1 (neuron.ipynb); the choice of the
        learning rate in chapter 6 (gradient_descent.ipynb), momentum in chapter 6 (momentum_rmsprop_adam.ipynb)."""
        if not self.momentum:
            variable -= learning_rate * grad
            return
        velocity = self.velocities[index]
        momentum = variable.dtype.type(self.momentum)
        velocity[...] = momentum * velocity - learning_rate * grad
        variable += momentum * velocity - learning_rate * grad if self.nesterov else velocity


class RMSprop(Optimizer):
    """Divide each step by a running root-mean-square of the gradient, in Keras's form:

        v = rho * v + (1 - rho) * grad**2
        w -= learning_rate * grad / sqrt(v + epsilon)       (epsilon INSIDE the root, as Keras does)

    With momentum > 0 the step goes through a velocity: m = momentum * m + step; w -= m.
    centered=True subtracts the squared running mean of the gradient from v.
    Taught in chapter 6 (momentum_rmsprop_adam.ipynb).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
        super().__init__(learning_rate)
        self.rho = check_hyperparameter(rho, "rho", 0, 1)
        self.momentum = check_hyperparameter(momentum, "momentum", 0, 1, high_included=True)
        self.epsilon = _check_epsilon(epsilon)
        self.centered = bool(centered)

    def build(self, variables):
        self.velocities = [np.zeros_like(v) for v in variables]
        self.momentums = [np.zeros_like(v) for v in variables]
        self.average_gradients = [np.zeros_like(v) for v in variables]

    def update_step(self, index, grad, variable, learning_rate):
        velocity = self.velocities[index]
        velocity[...] = self.rho * velocity + (1 - self.rho) * np.square(grad)
        denominator = velocity + self.epsilon
        if self.centered:
            average = self.average_gradients[index]
            average[...] = self.rho * average + (1 - self.rho) * grad
            denominator = denominator - np.square(average)
        step = learning_rate * grad / np.sqrt(denominator)
        if self.momentum > 0:
            momentum = self.momentums[index]
            momentum[...] = self.momentum * momentum + step
            step = momentum
        variable -= step


class Adagrad(Optimizer):
    """Divide each step by the root of the sum of ALL past squared gradients (Duchi et al. 2011), in
    Keras's form:

        a += grad**2                       (a starts at initial_accumulator_value, 0.1)
        w -= learning_rate * grad / sqrt(a + epsilon)

    The sum only grows, so every weight's step only shrinks: good for rare features, too early a
    stop for long training. RMSprop replaces the sum by a running average. Taught in chapter 6
    (momentum_rmsprop_adam.ipynb).
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = check_hyperparameter(
            initial_accumulator_value, "initial_accumulator_value", 0, math.inf)
        self.epsilon = _check_epsilon(epsilon)

    def build(self, variables):
        self.accumulators = [np.full_like(v, self.initial_accumulator_value) for v in variables]

    def update_step(self, index, grad, variable, learning_rate):
        accumulator = self.accumulators[index]
        accumulator += np.square(grad)
        variable -= learning_rate * grad / np.sqrt(accumulator + self.epsilon)


class Adadelta(Optimizer):
    """RMSprop whose learning rate is replaced by the root-mean-square of the past updates (Zeiler
    2012), in Keras's form (rms(x) = sqrt(x + epsilon)):

        a = rho * a + (1 - rho) * grad**2                   running average of squared gradients
        delta = -rms(u) / rms(a) * grad                     the step, in the units of w
        u = rho * u + (1 - rho) * delta**2                  running average of squared steps
        w += learning_rate * delta

    The paper has no learning rate (learning_rate=1.0 gives its rule); Keras's default, 0.001,
    makes the steps 1000 times smaller. Taught in chapter 6 (momentum_rmsprop_adam.ipynb).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho = check_hyperparameter(rho, "rho", 0, 1)
        self.epsilon = _check_epsilon(epsilon)

    def build(self, variables):
        self.accumulated_grads = [np.zeros_like(v) for v in variables]
        self.accumulated_deltas = [np.zeros_like(v) for v in variables]

    def update_step(self, index, grad, variable, learning_rate):
        """The four lines of the class docstring, for one variable, in place. Taught in chapter 6
        (momentum_rmsprop_adam.ipynb)."""
        average_grad, average_delta = self.accumulated_grads[index], self.accumulated_deltas[index]
        average_grad[...] = self.rho * average_grad + (1 - self.rho) * np.square(grad)
        delta = -(np.sqrt(average_delta + self.epsilon) * grad) / np.sqrt(average_grad + self.epsilon)
        average_delta[...] = self.rho * average_delta + (1 - self.rho) * np.square(delta)
        variable += learning_rate * delta


class Adam(Optimizer):
    """Momentum and RMSprop together, with bias correction, in Keras's form (t = step number, from 1):

        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad**2
        w -= learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)

    This is the paper's algorithm (Kingma & Ba 2015, end of section 2) with epsilon added to the
    root of the UNcorrected v: it equals m_hat / (sqrt(v_hat) + epsilon_hat) with
    epsilon_hat = epsilon / sqrt(1 - beta_2**t). Taught in chapter 6 (momentum_rmsprop_adam.ipynb).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
        super().__init__(learning_rate)
        self.beta_1 = check_hyperparameter(beta_1, "beta_1", 0, 1)
        self.beta_2 = check_hyperparameter(beta_2, "beta_2", 0, 1)
        self.epsilon = _check_epsilon(epsilon)
        self.amsgrad = bool(amsgrad)

    def build(self, variables):
        self.momentums = [np.zeros_like(v) for v in variables]
        self.velocities = [np.zeros_like(v) for v in variables]
        self.velocity_hats = [np.zeros_like(v) for v in variables] if self.amsgrad else None
        self._scratch = [(np.empty_like(v), np.empty_like(v)) for v in variables]   # for speed, below

    def update_step(self, index, grad, variable, learning_rate):
        t = self.iterations
        alpha = learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m, v = self.momentums[index], self.velocities[index]
        a, b = self._scratch[index]
        # The three lines of the docstring, in Keras's order of operations (so that the numbers are
        # the same to the last bit), written into preallocated arrays (out=...) to save memory traffic:
        m += np.multiply(np.subtract(grad, m, out=a), 1 - self.beta_1, out=a)     # m += (g - m)(1 - b1)
        v += np.multiply(np.subtract(np.square(grad, out=a), v, out=a), 1 - self.beta_2, out=a)
        if self.amsgrad:
            np.maximum(self.velocity_hats[index], v, out=self.velocity_hats[index])
            v = self.velocity_hats[index]
        denominator = np.add(np.sqrt(v, out=b), self.epsilon, out=b)               # sqrt(v) + epsilon
        variable -= np.divide(np.multiply(m, alpha, out=a), denominator, out=a)   # m * alpha / (...)


def _check_epsilon(epsilon):
    """epsilon keeps a division by a root of zero finite: it must be > 0."""
    epsilon = check_hyperparameter(epsilon, "epsilon", 0, math.inf)
    if epsilon == 0:
        raise ValueError("epsilon must be > 0 (it keeps the step finite where the gradient is 0); got 0.")
    return epsilon


_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adagrad": Adagrad, "adadelta": Adadelta}


def get(identifier):
    """An optimizer from a Keras name ("sgd") with its defaults, or an Optimizer object."""
    return from_identifier(identifier, Optimizer, _BY_NAME, "optimizer")

"""quizgen: randomized CNN-fundamentals exercises with exact, Keras-checked answers."""

__version__ = "0.1.0"

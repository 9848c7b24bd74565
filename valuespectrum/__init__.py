"""valuespectrum: measure the value preferences of vision-language models.

Importing the package is cheap on purpose: heavy libraries (torch, open_clip, transformers,
litellm, mlflow) are imported only by the stage or backend that needs them.
"""

__version__ = "0.1.0"

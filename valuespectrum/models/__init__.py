"""Chat models behind one small protocol (see ``base``); backends import heavy libraries lazily."""

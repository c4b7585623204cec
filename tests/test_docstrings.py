"""The runnable `Example:` blocks of the public API's docstrings, at 16 px."""

import doctest

import pytest

import dfl_keras
from dfl_keras import app, errors, export, images_io, photos, presets, provenance, serving, vectors
from dfl_keras.cli import common
from dfl_keras.data import celeba, loading, pipeline

PUBLIC = [
    dfl_keras.LatentAttributeModel,
    dfl_keras.LatentAttributeModel.fit_attribute_vectors,
    dfl_keras.LatentAttributeModel.insert,
    export.export_serving,
    dfl_keras.LatentAttributeModel.from_preset,
    dfl_keras.AttributeJudge.from_preset,
    presets.load_preset,
    errors.check_attributes,
    loading.load,
    celeba.celeba_folder,
    pipeline.image_dataset,
    provenance.format_faces,
    images_io.decode_photo,
    serving.align_face,
    serving.paste_face,
    serving.face_mask_at,
    photos.draw_faces,
    app.PhotoEditor,
    serving.check_landmarks,
    photos.face_turn,
    images_io.photo_name,
    images_io.check_photo_file,
    images_io.as_grey,
    images_io.check_gif,
    vectors.whitening,
    vectors.edit_scales,
    provenance.written_by_dfl_keras,
    common.check_replaceable,
]


@pytest.mark.parametrize("function", PUBLIC, ids=lambda f: f.__qualname__)
def test_the_example_runs(function):
    module = __import__(function.__module__, fromlist=["_"])
    finder = doctest.DocTestFinder(recurse=False)
    (test,) = finder.find(function, function.__qualname__, globs=vars(module).copy())
    assert test.examples, f"{function.__qualname__} has no Example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0, f"{function.__qualname__}: see the doctest output above"

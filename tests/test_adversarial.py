"""The VAE-GAN decoder: a critic trained beside the decoder, never saved in the editor's file."""

import numpy as np
from helpers import random_images, tiny_model

import dfl_keras as dfl
from dfl_keras import adversarial, distribute


def adversarial_model(start=0):
    model = tiny_model()
    model.encoder.trainable = False
    model.compile(optimizer="adam", adversarial_weight=0.5, adversarial_start=start)
    return model


def weights(layer):
    return [w.numpy().copy() for w in layer.weights]


def test_hinge_losses_and_adaptive_weight():
    assert float(adversarial.discriminator_hinge_loss(np.full(4, 2.0), np.full(4, -2.0))) == 0.0
    assert float(adversarial.discriminator_hinge_loss(np.zeros(4), np.zeros(4))) == 2.0
    assert float(adversarial.generator_loss(np.array([1.0, 3.0]))) == -2.0
    weight = adversarial.adaptive_weight(np.array([3.0, 4.0]), np.array([0.0, 10.0]), 0.5)
    np.testing.assert_allclose(float(weight), 0.5 * 5.0 / (10.0 + 1e-4), rtol=1e-6)


def test_a_frozen_encoder_keeps_its_codes_while_the_decoder_and_critic_train():
    model = adversarial_model()
    images = random_images(16)
    encoder, decoder = weights(model.encoder), weights(model.decoder)
    critic = weights(model.adversary.discriminator)
    history = model.fit(images, epochs=2, batch_size=8, verbose=0).history
    assert all(np.array_equal(a, b) for a, b in zip(encoder, weights(model.encoder)))
    assert not all(np.array_equal(a, b) for a, b in zip(decoder, weights(model.decoder)))
    assert not all(np.array_equal(a, b)
                   for a, b in zip(critic, weights(model.adversary.discriminator)))
    assert {"adversarial_loss", "adversarial_weight", "discriminator_loss"} <= set(history)
    assert all(w > 0 for w in history["adversarial_weight"])


def test_before_its_start_step_the_critic_does_not_steer_the_decoder():
    model = adversarial_model(start=1000)
    history = model.fit(random_images(16), epochs=1, batch_size=8, verbose=0).history
    assert history["adversarial_weight"] == [0.0]


def test_the_editor_file_has_no_critic_and_loads_as_an_editor(tmp_path):
    model = adversarial_model()
    model.fit(random_images(8), epochs=1, batch_size=8, verbose=0)
    plain = tiny_model()
    model.save(tmp_path / "gan.keras")
    loaded = dfl.LatentAttributeModel.from_preset(tmp_path / "gan.keras")
    assert len(loaded.weights) == len(plain.weights) == len(model.weights)
    np.testing.assert_array_equal(loaded.decode(np.zeros(8)), model.decode(np.zeros(8)))


def test_a_resumed_run_gets_back_the_critic_it_had(tmp_path):
    backup = tmp_path / "backup"
    first = adversarial_model()
    first.fit(random_images(8), epochs=1, batch_size=8, verbose=0,
              callbacks=[distribute.BackupAndRestore(backup, delete_checkpoint=False)])
    assert len(list(backup.glob("*critic.weights.h5"))) == 1
    resumed = adversarial_model()
    resumed.fit(random_images(8), epochs=1, batch_size=8, verbose=0,
                callbacks=[distribute.BackupAndRestore(backup, delete_checkpoint=False)])
    for saved, restored in zip(weights(first.adversary.discriminator),
                               weights(resumed.adversary.discriminator)):
        np.testing.assert_array_equal(saved, restored)

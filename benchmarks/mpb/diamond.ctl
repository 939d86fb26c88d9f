; Diamond lattice of dielectric spheres (the fem-homog MPB benchmark, benchmarks/mpb_bench.py).
; fcc lattice with cubic constant a = 1 (primitive vectors (0,1/2,1/2), (1/2,0,1/2), (1/2,1/2,0)); two spheres
; of epsilon 11.56 and radius 0.25 at +-(1/8, 1/8, 1/8) (Cartesian) in air; they overlap.
; Frequencies are MPB's, omega a / (2 pi c) (what MPB's documentation writes "c/a"), the units of 2 pi c / a.
; k-points below are in MPB's reciprocal-lattice basis: k_cart / (2 pi / a) = sum_j k_j b_j with a_i . b_j = delta_ij.
;   mpb res=24 interp=3 diamond.ctl
; MPB's own example (its "Data Analysis Tutorial") uses mesh-size 5 and a k-point list whose "L" (0 0.5 0) is not
; the L point (MPB issue #75); the standard points here give a slightly different gap at the same resolution.
(define-param res 16)       ; grid points per a
(define-param interp 3)     ; k-points inserted on each segment of the path
(define-param nbands 5)
(define-param kpoints #f)  ; a list of k-points (MPB basis) replacing the path, e.g. 'kpoints=(list (vector3 0.5 0 0.5))'

(set! geometry-lattice (make lattice
                         (basis-size (sqrt 0.5) (sqrt 0.5) (sqrt 0.5))
                         (basis1 0 1 1) (basis2 1 0 1) (basis3 1 1 0)))

; Cartesian (1/8,1/8,1/8) = (a1 + a2 + a3)/8, i.e. (1/8,1/8,1/8) in the lattice basis.
(set! geometry (list (make sphere (material (make dielectric (epsilon 11.56)))
                           (center 0.125 0.125 0.125) (radius 0.25))
                     (make sphere (material (make dielectric (epsilon 11.56)))
                           (center -0.125 -0.125 -0.125) (radius 0.25))))

; The fcc path G-X-W-K-G-L-U-W-L-K (X = 2pi(0,1,0), W = 2pi(1/2,1,0), K = 2pi(3/4,3/4,0), L = 2pi(1/2,1/2,1/2),
; U = 2pi(1/4,1,1/4)), converted with k_j = k_cart . a_j / (2 pi).
(define Gamma (vector3 0 0 0))
(define X (vector3 0.5 0 0.5))
(define W (vector3 0.5 0.25 0.75))
(define K (vector3 0.375 0.375 0.75))
(define L (vector3 0.5 0.5 0.5))
(define U (vector3 0.625 0.25 0.625))
(set! k-points (or kpoints (interpolate interp (list Gamma X W K Gamma L U W L K))))

(set! resolution res)
(set! num-bands nbands)
(run)
